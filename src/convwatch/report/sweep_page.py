"""A sweep's page (`<sweep>/index.html`) as a plain dict for templates/sweep.html: the sweep's
overrides, its points with the status each run folder says now, the files the runner wrote
beside the runs, and the comparison of its runs (`convwatch.report.compare_page`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from convwatch.report import compare_page, learned
from convwatch.report.html import figure, link, status
from convwatch.report.reader import IMAGE_SUFFIXES, SWEEP_JSON, Run

INDEX = "index.html"
TEXT_LIMIT = 100_000  # a .txt file beside the runs shown in full up to this size (bytes)


def _files(sweep: Path) -> list[dict[str, Any]]:
    """What the runner wrote beside the sweep's runs (overlaid curves, a table, verdicts)."""
    found = []
    for path in sorted(sweep.iterdir()):
        if path.is_symlink() or not path.is_file() or path.name.startswith("."):
            continue
        if path.name in (INDEX, SWEEP_JSON) or path.name.startswith(learned.PREFIX[:-1]):
            continue  # the section of its own below
        shown: dict[str, Any] = {"name": path.name, "figure": None, "text": None, "link": None}
        if path.suffix.lower() in IMAGE_SUFFIXES:
            shown["figure"] = figure(path, sweep, path.name)
        elif path.suffix == ".txt" and path.stat().st_size < TEXT_LIMIT:
            shown["text"] = path.read_text(encoding="utf-8", errors="replace")
        else:
            shown["link"] = link(path, sweep, path.name)
        found.append(shown)
    return found


def _point(number: int, point: Any, found: dict[str, Run], sweep: Path) -> dict[str, Any]:
    """One point of sweep.json with the status its run folder says now. A name in sweep.json
    is only looked up among the run folders found in the sweep, never followed as a path."""
    point = point if isinstance(point, dict) else {}
    name, listed = point.get("run"), str(point.get("status") or "unknown")
    run = found.get(name) if isinstance(name, str) else None
    shown = {"number": number, "label": point.get("label", ""), "link": None, "listed": None}
    if run is None:
        name = name if isinstance(name, str) else "—"
        return {**shown, "name": name, "status": status(listed), "missing": True, "reason": ""}
    reason = run.status_reason if run.status == "dead" else ""
    return {
        **shown,
        "link": compare_page.run_link(run, sweep),
        "status": status(run.status, reason),
        "missing": False,
        "reason": reason,
        "listed": listed if listed != run.status else None,
    }


def _points(sweep: Path, listing: dict[str, Any], runs: Sequence[Run]) -> dict[str, Any] | None:
    """sweep.json's points: a point listed as running whose run was killed shows `dead`."""
    points = listing.get("runs")
    if not isinstance(points, list) or not points:
        return None
    found = {run.path.name: run for run in runs}
    planned = listing.get("planned")
    started = f"{len(points)} of {planned} points started" if isinstance(planned, int) else ""
    return {
        "started": started,
        "rows": [_point(n, p, found, sweep) for n, p in enumerate(points, 1)],
    }


def context(
    sweep: Path, runs: Sequence[Run], listing: dict[str, Any], crumbs: Sequence[dict[str, str]]
) -> dict[str, Any]:
    """Everything templates/sweep.html shows, for the page saved in the sweep folder."""
    overrides = listing.get("overrides")
    title = f"Sweep {sweep.name}"
    return {
        **compare_page.context(runs, sweep, title, learned=learned.read(sweep)),
        "crumbs": list(crumbs),
        "overrides": " ".join(map(str, overrides)) if isinstance(overrides, list) else "",
        "points": _points(sweep, listing, runs),
        "files": _files(sweep),
    }
