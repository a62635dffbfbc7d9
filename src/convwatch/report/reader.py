"""The one reader of run folders: find them and read them in whatever state they are.

A run folder may be complete, failed, interrupted, still running, dead (killed while its
run.json said running), or written by an older convwatch: `load_run` reads what is there and
says in words what is missing, unreadable or of the wrong shape, never raising on a file.
`Run.status` is the one status every reader shows (`convwatch.base.liveness` tells a dead run
from a running one). `find_runs`, `runs_below` and `find_sweeps` find folders; `read_sweep`
reads a sweep's `sweep.json`. Comparing runs is `convwatch.report.compare`; pages are
`convwatch.report.pages`.
"""

from __future__ import annotations

import csv
import functools
import glob
import json
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convwatch.base import atomic, layout, liveness
from convwatch.errors import ConvwatchError

# Config keys shown elsewhere (the experiment column, the report), not as differences.
NOT_SETTINGS = ("name", "description", "references")
# What a complete run folder holds, and what it means when one is missing.
EXPECTED = {
    layout.RUN_JSON: "no status, times or environment (an older or interrupted run?)",
    layout.CONFIG_JSON: "the settings of this run are unknown",
    layout.HISTORY_CSV: "no curves (the run stopped before its first epoch ended?)",
    layout.METRICS_JSON: "no final test metrics (the run did not reach its evaluation)",
    layout.SUMMARY_TXT: "no model summary",
    layout.MODEL_FILE: "no trained model was saved",
}
IMAGE_SUFFIXES = (".png", ".gif", ".jpg", ".jpeg", ".svg", ".webp")
TAG = re.compile(r"^(?P<series>.*?)_?(?P<tag>epoch\d+|step\d+)$")
SWEEP_JSON = layout.SWEEP_JSON


@dataclass
class Artifact:
    """A file under `artifacts/`: its callback folder, and the series and tag in its name."""

    path: Path
    rel: str  # posix path relative to the run folder
    group: str  # the callback (first folder under artifacts/)
    name: str  # path relative to the group folder
    series: str  # name without suffix and tag: `conv1` for `conv1_epoch002.png`
    tag: str | None  # `epoch002`, `step000100` or None
    size: int

    @property
    def is_image(self) -> bool:
        return self.path.suffix.lower() in IMAGE_SUFFIXES


@dataclass
class Run:
    """What one run folder holds; `problems` says in words what is missing or unreadable, and
    `damaged` the part of it about files that are there but unreadable or of the wrong shape."""

    path: Path
    record: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    references: list[dict[str, Any]] = field(default_factory=list)
    summaries: dict[str, Any] = field(default_factory=dict)  # other metrics.json sections
    history: list[dict[str, float]] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def experiment(self) -> str:
        name = self.record.get("name") or self.config.get("name")
        if name:
            return str(name)
        parent = self.path.parent
        return parent.parent.name if (parent / SWEEP_JSON).is_file() else parent.name

    @property
    def recorded_status(self) -> str:
        """The status run.json says, as the run last wrote it."""
        return str(self.record.get("status") or "unknown")

    @functools.cached_property
    def verdict(self) -> liveness.Verdict:
        """`convwatch.base.liveness`'s judgement of the record, made once per Run."""
        return liveness.judge(self.record, self.path)

    @property
    def status(self) -> str:
        """What every reader shows: the recorded status, or `dead` for a record that says
        running whose process is gone or whose heartbeat stopped (`convwatch.base.liveness`)."""
        return "dead" if self.verdict.dead else self.recorded_status

    @property
    def status_reason(self) -> str:
        """Why a running or dead run is judged so, in words ("" for a finished run)."""
        return self.verdict.reason

    @property
    def started(self) -> str:
        return str(self.record.get("started") or self.path.name)

    @property
    def duration_s(self) -> float | None:
        value = self.record.get("duration_s")
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if math.isfinite(value) else None

    @property
    def sweep(self) -> Path | None:
        return self.path.parent if (self.path.parent / SWEEP_JSON).is_file() else None

    def settings(self) -> dict[str, Any]:
        """The config flattened to dotted keys, less what is not a setting."""
        return {
            k: v for k, v in flatten(self.config).items() if k.split(".")[0] not in NOT_SETTINGS
        }


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    """`{"fit": {"epochs": 2}}` -> `{"fit.epochs": 2}`; lists and scalars are leaves."""
    if not isinstance(config, dict):
        return {prefix: config} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


# ---------------------------------------------------------------------------- reading
def is_run(path: Path) -> bool:
    """Whether `path` is a run folder: one holding run.json, config.json or history.csv."""
    names = (layout.RUN_JSON, layout.CONFIG_JSON, layout.HISTORY_CSV)
    try:
        return path.is_dir() and any((path / n).is_file() for n in names)
    except OSError:  # a folder this user may not look into
        return False


def _damaged(run: Run, problem: str) -> None:
    run.problems.append(problem)
    run.damaged.append(problem)


def _read(run: Run, name: str, reader: Any) -> Any:
    path = run.path / name
    if not path.is_file():
        run.problems.append(f"{name} is missing: {EXPECTED.get(name, 'not written')}")
        return None
    try:
        return reader(path)
    except json.JSONDecodeError as error:
        _damaged(run, f"{name} is not valid JSON ({error})")
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as error:
        _damaged(run, f"{name} could not be read ({type(error).__name__}: {error})")
    return None


def _kind(value: Any) -> str:
    """What a JSON value is, for a message: "a list", "the string 'x'", "the number nan"."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return f"the number {value}"
    return type(value).__name__


def _object(run: Run, name: str, value: Any, what: str = "") -> dict[str, Any]:
    """`value` if it is a JSON object; otherwise {} and a problem saying what it is instead."""
    if value is None or isinstance(value, dict):
        return value or {}
    where = f"{name}'s {what!r}" if what else name
    _damaged(run, f"{where} is not a JSON object: it holds {_kind(value)}")
    return {}


def finite_number(value: Any) -> float | None:
    """`value` as a finite float, or None (text, NaN, infinity, a list...)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def load_run(path: str | os.PathLike[str], artifacts: bool = True) -> Run:
    """Read a run folder, whatever it holds; what is missing goes into `run.problems`.
    `artifacts=False` skips listing `artifacts/` (for a list of many runs)."""
    run = Run(Path(path))
    run.record = _object(run, layout.RUN_JSON, _read(run, layout.RUN_JSON, atomic.read_json))
    for key in ("name", "status", "started"):
        value = run.record.get(key)
        if value is not None and not isinstance(value, str):
            _damaged(run, f"run.json's {key!r} is not a string: it holds {_kind(value)}")
    config = _read(run, layout.CONFIG_JSON, atomic.read_json)
    run.config = _object(run, layout.CONFIG_JSON, config)
    _read_history(run)
    metrics = _read(run, layout.METRICS_JSON, atomic.read_json)
    if isinstance(metrics, dict):
        _read_metrics(run, metrics)
    else:
        _object(run, layout.METRICS_JSON, metrics)
        if run.history:  # no evaluation: the last epoch it is
            last = run.history[-1]
            run.metrics = {f"final_{k}": v for k, v in last.items() if k not in ("epoch", "step")}
            run.metrics["epochs"] = int(last.get("epoch", len(run.history)))
    for name in (layout.SUMMARY_TXT, layout.MODEL_FILE):
        if not (run.path / name).is_file():
            run.problems.append(f"{name} is missing: {EXPECTED[name]}")
    if run.status == "dead":
        run.problems.append(f"dead: {run.status_reason}. {resume_hint(run)}")
    elif run.recorded_status == "running":
        run.problems = [_still_to_come(problem) for problem in run.problems]
        run.problems.append(
            f"run.json still says running: the run is in progress ({run.status_reason})"
        )
    run.artifacts = list_artifacts(run.path) if artifacts else []
    return run


def _still_to_come(problem: str) -> str:
    """For a live run, a file the run writes at its end is not missing, only not yet there."""
    for name in (layout.METRICS_JSON, layout.MODEL_FILE):
        if problem.startswith(f"{name} is missing"):
            return f"{name} is not written yet: the run writes it when training ends"
    return problem


def _read_history(run: Run) -> None:
    """history.csv into `run.history`: per row, the columns that hold finite numbers."""
    rows = _read(run, layout.HISTORY_CSV, atomic.read_csv) or []
    for row in rows:
        numbers = {k: finite_number(v) for k, v in row.items() if isinstance(k, str) and k}
        run.history.append({k: v for k, v in numbers.items() if v is not None})
    if rows and not any(run.history):
        columns = ", ".join(k for k in rows[0] if isinstance(k, str)) or "none"
        _damaged(run, f"history.csv holds no numbers (its columns: {columns[:200]})")
    if any(None in row for row in rows):
        _damaged(run, "history.csv has rows with more fields than its header (extras ignored)")


def _read_metrics(run: Run, metrics: dict[str, Any]) -> None:
    """metrics.json's sections into `run.metrics`, `run.references` and `run.summaries`."""
    run.metrics = dict(_object(run, layout.METRICS_JSON, metrics.get("metrics"), "metrics"))
    references = metrics.get("references") or []
    if not isinstance(references, list):
        _damaged(run, f"metrics.json's 'references' is not a list: it holds {_kind(references)}")
        references = []
    run.references = [r for r in references if isinstance(r, dict)]
    if len(run.references) < len(references):
        _damaged(run, "metrics.json's 'references' holds entries that are not JSON objects")
    run.summaries = {
        k: v for k, v in metrics.items() if k not in ("metrics", "references", "data_source")
    }


def resume_hint(run: Run) -> str:
    """What a dead (or interrupted, failed) run can do next, in a sentence."""
    epoch = run.record.get("checkpoint_epoch")
    if (run.path / layout.CHECKPOINT_FILE).is_file() and isinstance(epoch, int) and epoch > 0:
        return (
            f"run.json still says running; `convwatch resume {run.path}` continues it from its "
            f"checkpoint after epoch {epoch}"
        )
    return "run.json still says running; it saved no checkpoint to resume from"


def list_artifacts(run_path: Path) -> list[Artifact]:
    """Every file under `artifacts/`, sorted; links, hidden and temporary files are left out,
    and nothing outside the run folder is ever listed."""
    root = run_path / layout.ARTIFACTS_DIR
    if not root.is_dir() or root.is_symlink():
        return []
    top = run_path.resolve()
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and not (Path(folder) / d).is_symlink()
        )
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            if not path.resolve().is_relative_to(top):
                continue
            parts = path.relative_to(root).parts
            group, inner = (parts[0], "/".join(parts[1:])) if len(parts) > 1 else ("", parts[0])
            match = TAG.match(Path(name).stem)
            series = match["series"] if match else Path(name).stem
            prefix = "/".join(parts[1:-1])
            found.append(
                Artifact(
                    path=path,
                    rel=path.relative_to(run_path).as_posix(),
                    group=group,
                    name=inner,
                    series=f"{prefix}/{series}" if prefix else series,
                    tag=match["tag"] if match else None,
                    size=path.stat().st_size,
                )
            )
    return found


def find_runs(patterns: Iterable[str], warn: Callable[[str], None] | None = None) -> list[Path]:
    """Run folders named by paths or globs; a folder that is not a run (a sweep, an
    experiment, a results root) stands for the runs inside it. Files are skipped."""
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        matches = [m for m in matches if os.path.exists(m)]
        if not matches:
            raise ConvwatchError(f"no such run folder: {pattern}")
        for match in matches:
            path = Path(match)
            if not path.is_dir():
                if warn:
                    warn(f"skipped {path}: not a folder")
                continue
            runs = [path] if is_run(path) else runs_below(path)
            if not runs and len(matches) == 1:
                raise ConvwatchError(f"no run folders in {path}")
            found += runs
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise ConvwatchError(f"no run folders in {' '.join(patterns)}")
    return unique


def runs_below(folder: Path, depth: int = 4) -> list[Path]:
    """Run folders below `folder` (not itself), in name order; links are not followed."""
    if depth == 0:
        return []
    runs: list[Path] = []
    try:
        children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []
    for child in children:
        if child.name.startswith(".") or child.name in (
            layout.ARTIFACTS_DIR,
            layout.TENSORBOARD_DIR,
        ):
            continue
        runs += [child] if is_run(child) else runs_below(child, depth - 1)
    return runs


def find_sweeps(folder: Path) -> list[Path]:
    """Sweep folders at or below `folder` (a results root or an experiment folder)."""
    if (folder / SWEEP_JSON).is_file():
        return [folder]
    return sorted(p.parent for p in folder.glob(f"*/{SWEEP_JSON}")) + sorted(
        p.parent for p in folder.glob(f"*/*/{SWEEP_JSON}")
    )


def read_sweep(sweep: Path) -> tuple[dict[str, Any], str | None]:
    """A sweep folder's sweep.json as a dict, and what is wrong with it in words: ({}, None)
    when there is none, ({}, why) when it is unreadable or not a JSON object."""
    path = sweep / SWEEP_JSON
    if not path.is_file():
        return {}, None
    try:
        listing = atomic.read_json(path)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        return {}, f"{SWEEP_JSON} could not be read ({type(error).__name__}: {error})"
    if not isinstance(listing, dict):
        return {}, f"{SWEEP_JSON} is not a JSON object: it holds {type(listing).__name__}"
    return listing, None
