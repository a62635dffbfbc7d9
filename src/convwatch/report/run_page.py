"""The run page (`<run>/index.html`) as a plain dict for templates/run.html: status and notes,
the overview, metrics, curves, every artifact with its caption, config, environment and files.

`context(run, crumbs)` reads nothing but the run folder's own files it links to (the filter
atlas's NPZs too: its section charts the dead filters per layer, `dead_filters`); the page is
`convwatch.report.pages.write_run_report`. The page of a running run (run.json says running
and `convwatch.base.liveness` finds it alive) reloads itself every `html.REFRESH_S` seconds and
says so under its title; `convwatch.run.live_page` rewrites it after every epoch, and the page
written once the run has ended has no reload. A running run's folder is read as it is: files
land by atomic renames, and what is not there yet (metrics.json, a GIF) is simply not shown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from convwatch.base import layout
from convwatch.report import captions
from convwatch.report.charts import run_charts
from convwatch.report.compare import show
from convwatch.report.dead_filters import ATLAS_GROUP, count_dead, dead_chart
from convwatch.report.html import figure, link, refresh, size_text, status
from convwatch.report.reader import Artifact, Run, resume_hint

TOC = ("metrics", "curves", "artifacts", "config", "environment", "files")
RUN_FILES = (
    layout.RUN_JSON,
    layout.CONFIG_JSON,
    layout.HISTORY_CSV,
    layout.METRICS_JSON,
    layout.SUMMARY_TXT,
    layout.MODEL_FILE,
)
ENVIRONMENT = (
    "git_commit", "python", "tensorflow", "keras", "keras_backend", "numpy", "host", "platform",
    "device",
)  # fmt: skip


def badge(run: Run) -> dict[str, str]:
    """The run's status badge; a dead run's says why on hover."""
    return status(run.status, run.status_reason if run.status == "dead" else "")


def notes(run: Run, unread: Sequence[str] = ()) -> dict[str, Any]:
    """The notes at the top of the page (templates/run_notes.html): why a run is dead and how
    to go on, its error, what its folder lacks (so far, for a running run) and the `unread`
    files the page left out, and what the run says about itself (a fallback network in place
    of ImageNet weights)."""
    dead = {"reason": run.status_reason, "hint": resume_hint(run)} if run.status == "dead" else None
    error = run.record.get("error")
    said = run.record.get("notes") or []
    return {
        "running": run.status == "running",
        "dead": dead,
        "error": {"status": run.status, "error": error, "traceback": run.record.get("traceback")}
        if error
        else None,
        "problems": [
            p for p in run.problems if not (run.status == "dead" and p.startswith("dead: "))
        ]
        + list(unread),
        "notes": [str(note) for note in (said if isinstance(said, list) else [said])],
    }


def _epochs(run: Run) -> tuple[Any, Any]:
    """(epochs completed, as run.json says; epochs planned, as config.json says), either None."""
    fit = run.config.get("fit") or {}
    return run.record.get("epochs_completed"), fit.get("epochs") if isinstance(fit, dict) else None


def live(run: Run) -> dict[str, Any] | None:
    """The line under a running run's title: the page reloads itself, how far the run is, and
    when the page was written (a time that stops moving tells of a run killed outright, whose
    last page still reloads until `convwatch report` writes it again). None for any other."""
    if run.status != "running":
        return None
    done, planned = _epochs(run)
    progress = None
    if isinstance(done, int) and isinstance(planned, int) and planned > 0:
        progress = f"{done} of {planned} epochs done"
    return {
        "every_s": refresh(True),
        "progress": progress,
        "written": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _overview(run: Run) -> list[tuple[str, Any]]:
    record = run.record
    epochs, planned = _epochs(run)
    data, loaded = record.get("data_source"), record.get("model_from")
    if data and record.get("data_full") is False:
        data = f"{data} — not the full dataset"
    pid, host = run.verdict.pid, run.verdict.host
    shown = run.status
    if shown != run.recorded_status:
        shown = f"{shown} (run.json says {run.recorded_status})"
    facts = {
        "status": shown,
        **({"process": f"{pid} on host {host or 'unknown'}"} if pid is not None else {}),
        "started": record.get("started"),
        "ended": record.get("ended"),
        "duration": f"{run.duration_s:.1f} s" if run.duration_s is not None else None,
        "epochs": f"{epochs} of {planned}" if epochs is not None and planned else epochs,
        "seed": record.get("seed"),
        "command": record.get("command"),
        "data": data,
        **({"model": loaded["file"]} if isinstance(loaded, dict) and "file" in loaded else {}),
    }
    return list(facts.items())


def _metrics(run: Run) -> dict[str, Any]:
    return {
        "metrics": [(k, show(v)) for k, v in run.metrics.items()],
        "references": [
            (
                r.get("label", r.get("metric")),
                r.get("source"),
                r.get("reference_text", show(r.get("reference"))),
                r.get("this_run_text", show(r.get("this_run"))),
            )
            for r in run.references
        ],
        "summaries": [
            (name, json.dumps(summary, indent=2, default=str))
            for name, summary in run.summaries.items()
        ],
    }


def _group(
    name: str,
    items: Sequence[Artifact],
    base: Path,
    known: dict[str, captions.Description],
    chart: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One capture folder's section: its sentence, its `chart` (the atlas's dead filters), its
    images (one strip per series: a series of snapshots scrolls sideways) and a table of its
    other files."""
    images = [a for a in items if a.is_image and not a.name.startswith("projector/")]
    strips = [
        [figure(a.path, base, captions.caption(a, known)) for a in images if a.series == series]
        for series in dict.fromkeys(a.series for a in images)
    ]
    files = [
        {
            "link": link(a.path, base, a.name),
            "size": size_text(a.size),
            "caption": captions.caption(a, known),
        }
        for a in items
        if a not in images
    ]
    description = known.get(name)
    return {
        "id": f"a-{name}",
        "name": name or "artifacts",
        "about": description.group if description else None,
        "chart": chart,
        "strips": strips,
        "files": files,
    }


def _groups(run: Run, base: Path, dead: dict[str, Any] | None) -> list[dict[str, Any]]:
    known = captions.descriptions(run)
    grouped: dict[str, list[Artifact]] = {}
    for artifact in run.artifacts:
        grouped.setdefault(artifact.group, []).append(artifact)
    return [
        _group(name, grouped[name], base, known, dead if name == ATLAS_GROUP else None)
        for name in captions.group_order(run, list(grouped))
    ]


def _files(run: Run, base: Path) -> dict[str, Any]:
    files = []
    for name in RUN_FILES:
        path = run.path / name
        try:  # in a running run's folder, a file may be replaced between the two looks
            size = path.stat().st_size if path.is_file() and not path.is_symlink() else None
        except OSError:
            size = None
        if size is not None:
            files.append({"link": link(path, base, name), "size": size_text(size)})
        else:
            files.append({"link": None, "name": name, "size": "missing"})
    summary = run.path / layout.SUMMARY_TXT
    return {
        "files": files,
        "tensorboard": (run.path / layout.TENSORBOARD_DIR).is_dir(),
        "summary": summary.read_text(encoding="utf-8", errors="replace")
        if summary.is_file() and not summary.is_symlink()
        else None,
    }


def context(run: Run, crumbs: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    """Everything templates/run.html shows of `run`, for a page saved in the run folder."""
    description = run.config.get("description")
    dead = count_dead(run)
    return {
        "title": f"{run.experiment} {run.run_id}: {run.status}",
        "refresh": refresh(run.status == "running"),
        "crumbs": list(crumbs),
        "experiment": run.experiment,
        "run_id": run.run_id,
        "status": badge(run),
        "live": live(run),
        "description": description or "",
        "toc": TOC,
        **notes(run, dead.problems),
        "overview": _overview(run),
        **_metrics(run),
        "curves": run_charts(run),
        "groups": _groups(run, run.path, dead_chart(dead)),
        "config": [(k, show(v)) for k, v in run.settings().items()] if run.config else None,
        "environment": [(k, run.record.get(k)) for k in ENVIRONMENT],
        **_files(run, run.path),
    }


def broken_context(run: Run, failure: str, crumbs: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    """templates/run_broken.html: for a run whose full page could not be drawn, the failure
    and what its folder lacks."""
    return {
        "title": f"{run.run_id}: {run.status}",
        "refresh": refresh(run.status == "running"),
        "crumbs": list(crumbs),
        "run_id": run.run_id,
        "status": status(run.status),
        "live": live(run),
        "failure": failure,
        "running": run.status == "running",
        "dead": None,
        "error": None,
        "problems": notes(run)["problems"],
        "notes": [],
    }
