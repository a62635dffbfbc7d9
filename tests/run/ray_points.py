"""Model builders for the launcher tests that can fail on purpose: raise, or kill their own
process (once, or every time), as a Ray worker would be killed. Each call is counted in
$CONVWATCH_TEST_MARKERS/built.log (passed to Ray workers, as every CONVWATCH_* variable is)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.tiny import tiny_classifier


def failing_classifier(filters: int = 2, mode: str = "ok"):
    """tiny_classifier(filters); mode raise: a RuntimeError; die_once: the process exits at
    once the first time (a marker file remembers); die: it exits every time."""
    markers = Path(os.environ["CONVWATCH_TEST_MARKERS"])
    with open(markers / "built.log", "a") as log:
        log.write(f"{filters} {mode} {os.getpid()}\n")
    if mode == "raise":
        raise RuntimeError("asked to break")
    first = markers / f"died-{filters}"
    if mode == "die" or (mode == "die_once" and not first.exists()):
        first.touch()
        os._exit(3)  # no cleanup, no exception: as SIGKILL or a lost node would end it
    return tiny_classifier(filters)


EXPERIMENT_MODULE = '''"""A tiny experiment the launcher tests load by name (as `resume` does)."""
from convwatch import Data, Experiment, Fit
from tests.run.ray_points import failing_classifier

EXPERIMENT = Experiment(
    name="rayexp", description="tiny classifier for the launcher tests",
    build_model=failing_classifier,
    data=Data(name="mnist", limit=120, test_limit=60), fit=Fit(epochs=1, batch_size=60), seed=5,
)
'''
