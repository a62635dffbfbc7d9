"""Builds the capture callbacks an experiment declares by name, with the run's data and folder.

An experiment's `callbacks` maps a callback name to its options; the runner hands each one the
probe images it needs and the run folder's `artifacts/<name>/` directory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from convwatch.errors import ConvwatchError

# name -> factory(options, arrays, dataset, out_dir) -> keras.callbacks.Callback
FACTORIES: dict[str, Callable[..., Any]] = {}


def check_callbacks(specs: Mapping[str, Mapping[str, Any]]) -> None:
    """Raise ConvwatchError for a callback name that does not exist."""
    unknown = sorted(set(specs) - set(FACTORIES))
    if unknown:
        raise ConvwatchError(
            f"unknown callbacks {unknown}; available: {', '.join(sorted(FACTORIES)) or '(none)'}"
        )


def build_callbacks(
    specs: Mapping[str, Mapping[str, Any]], arrays: Any, dataset: Any, folder: Any
) -> list[Any]:
    """The Keras callbacks `specs` declare, each writing under `folder.artifacts(name)`."""
    check_callbacks(specs)
    return [
        FACTORIES[name](dict(options), arrays, dataset, folder.artifacts(name))
        for name, options in specs.items()
    ]
