"""Errors convwatch raises for bad input, so the CLI can tell them from bugs (exit status 2)."""


class ConvwatchError(Exception):
    """Bad input from the user: an unknown name, a bad override, missing data, a bad run folder."""


class DataError(ConvwatchError):
    """A dataset could not be found or read; the message names every place that was tried."""


class RunFailed(Exception):
    """A run raised midway; its run.json says `failed` with the error. Carries the folder."""

    def __init__(self, path: object, error: str):
        super().__init__(f"run failed ({path}): {error}")
        self.path = path
        self.error = error
