"""Finds experiment modules by name and loads their `EXPERIMENT` declaration.

Experiments live as one module each in an `experiments/` folder: `$CONVWATCH_EXPERIMENTS` if set,
else `./experiments`, else the one beside this source tree. Names are plain identifiers, so a name
can never reach outside that folder.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

from convwatch.errors import ConvwatchError
from convwatch.run.spec import Experiment

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def experiments_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The folder experiment modules are read from."""
    if path is not None:
        return Path(path)
    if os.environ.get("CONVWATCH_EXPERIMENTS"):
        return Path(os.environ["CONVWATCH_EXPERIMENTS"])
    local = Path.cwd() / "experiments"
    if local.is_dir():
        return local
    return Path(__file__).resolve().parents[3] / "experiments"  # <repo>/src/convwatch/run/


def list_experiments(path: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the experiments available, sorted."""
    folder = experiments_dir(path)
    if not folder.is_dir():
        return []
    return sorted(
        p.stem for p in folder.glob("*.py") if _NAME.match(p.stem) and not p.stem.startswith("_")
    )


def load_experiment(name: str, path: str | os.PathLike[str] | None = None) -> Experiment:
    """The Experiment declared by `experiments/<name>.py`; a clear error for anything else."""
    available = list_experiments(path)
    listing = ", ".join(available) or f"(none found in {experiments_dir(path)})"
    if not _NAME.match(name):
        raise ConvwatchError(
            f"{name!r} is not an experiment name (letters, digits and underscores only). "
            f"Available experiments: {listing}"
        )
    if name not in available:
        raise ConvwatchError(f"unknown experiment {name!r}. Available experiments: {listing}")
    file = experiments_dir(path) / f"{name}.py"
    module_name = f"convwatch_experiments.{name}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    declared = getattr(module, "EXPERIMENT", None)
    experiment = declared() if callable(declared) else declared
    if not isinstance(experiment, Experiment):
        raise ConvwatchError(
            f"{file} must define EXPERIMENT = Experiment(...) (or a function returning one)"
        )
    return experiment
