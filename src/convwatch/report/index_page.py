"""The results index (`<results>/index.html`) as a plain dict for templates/index.html: every
run below the folder, the running ones first and then newest first, with its test metrics, and
the sweeps. While a run it lists is running (and alive, by `convwatch.base.liveness`), the page
reloads itself every `html.REFRESH_S` seconds; each run rewrites it when it starts
(`convwatch.run.live_page`) and the runner once the runs have ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from convwatch.report import compare_page
from convwatch.report.compare import show
from convwatch.report.html import link, refresh
from convwatch.report.reader import Run
from convwatch.report.run_page import badge, live

INDEX = "index.html"
TITLE = "convwatch runs"  # also how a page finds the index above it (pages.results_root)
METRICS = ("test_accuracy", "test_error", "test_loss")


def _sweep(folder: Path, root: Path, text: str) -> dict[str, str | None]:
    """A link to a sweep's page, or just its name where it has no page."""
    page = folder / INDEX
    return link(page, root, text) if page.is_file() else {"href": None, "text": text}


def context(root: Path, runs: Sequence[Run], sweeps: Sequence[Path]) -> dict[str, Any]:
    """Everything templates/index.html shows, for the page saved in `root`."""
    runs = sorted(runs, key=lambda r: (r.status == "running", r.started, r.run_id), reverse=True)
    metrics = [m for m in METRICS if any(m in r.metrics for r in runs)]
    return {
        "title": TITLE,
        "refresh": refresh(any(r.status == "running" for r in runs)),
        "crumbs": [],
        "metrics": metrics,
        "runs": [
            {
                "started": str(run.record.get("started") or "—").replace("T", " ")[:19],
                "experiment": run.experiment,
                "link": compare_page.run_link(run, root),
                "status": badge(run),
                "progress": (live(run) or {}).get("progress"),
                "cells": [show(run.metrics.get(m)) for m in metrics],
                "duration": compare_page.duration(run),
                "sweep": _sweep(run.sweep, root, run.sweep.name)
                if run.sweep
                else {"href": None, "text": ""},
            }
            for run in runs
        ],
        "sweeps": [_sweep(s, root, s.relative_to(root).as_posix()) for s in sweeps],
    }
