"""run.json, the record a run keeps of itself: what it is, where it runs, how far it got.

The runner writes the record when the run starts, after the data are loaded, at each epoch end,
at each checkpoint and when the run ends; while the run goes, every write is also a heartbeat
(`convwatch.base.liveness` reads it to tell a live run from a dead one). A resumed run's record
is the unfinished one, with the resumption added to its `resumed` list.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from convwatch.base import atomic, layout
from convwatch.run.catalog import experiments_dir
from convwatch.run.environment import describe
from convwatch.run.folder import RunFolder
from convwatch.run.spec import Experiment


def first_record(
    experiment: Experiment,
    command: str,
    overrides: Sequence[str],
    captures: Mapping[str, dict[str, Any]],
) -> dict[str, Any]:
    """run.json of a run about to start: what it is, where it runs, nothing done yet, and
    `captures`: what each group of artifacts/ is and what its files show, for the run page
    (`convwatch.run.captures.captures_record`)."""
    return {
        "name": experiment.name,
        "status": "running",
        "error": None,
        "started": now(),
        "ended": None,
        "duration_s": None,
        "command": command,
        "seed": experiment.seed,
        "config_hash": experiment.config_hash(),
        "data_source": None,
        "data_full": None,
        "epochs_completed": 0,
        "checkpoint_epoch": 0,
        "overrides": list(overrides),
        **describe(experiments_dir()),
        "captures": dict(captures),
    }


def resumed_record(resume: dict[str, Any], first: Mapping[str, Any]) -> dict[str, Any]:
    """run.json of an unfinished run (`resume`) going on from its checkpoint, with this
    resumption (at `first`'s start, with its description of the captures) added to its list
    (and, for a dead run, why it was dead)."""
    earlier = resume.pop("resumed_from", None) or {}
    resumed = {
        "at": first["started"],
        "from_epoch": resume["checkpoint_epoch"],
        "from_status": earlier.get("status", resume.get("status")),
        **({"dead": earlier["reason"]} if earlier.get("status") == "dead" else {}),
    }
    before = resume.get("resumed")
    record = {
        **resume,
        "status": "running",
        "error": None,
        "ended": None,
        "epochs_completed": resume["checkpoint_epoch"],
        "captures": first["captures"],
        "resumed": [*(before if isinstance(before, list) else []), resumed],
    }
    record.pop("traceback", None)
    return record


def write_record(folder: RunFolder, record: dict[str, Any]) -> None:
    """Write run.json; while the run goes, each write is also a heartbeat (at least one per
    epoch; the Heartbeat thread beats in heartbeat.json between them)."""
    if record.get("status") == "running":
        record["heartbeat"] = now()
    folder.write_json(layout.RUN_JSON, record)


def read_record(folder: RunFolder, name: str = layout.RUN_JSON) -> Any:
    """The JSON file `name` in `folder` (run.json by default), or None if it cannot be read."""
    try:
        return atomic.read_json(folder.path / name)
    except (OSError, ValueError):
        return None


def recorded_status(folder: RunFolder) -> str:
    """The status the run.json in `folder` says; `failed` where there is none to read."""
    record = read_record(folder)
    status = record.get("status", "failed") if isinstance(record, dict) else "failed"
    return str(status)


def command_line() -> str:
    """This process's command line as a user would type it (`convwatch run ...`)."""
    program = Path(sys.argv[0]).name
    if program in ("__main__.py", "cli.py"):
        program = "convwatch"
    return " ".join([program, *sys.argv[1:]])


def now() -> str:
    """The local time with its UTC offset, as every record stamps it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
