"""Writing the static HTML pages: one per run (`index.html`), a comparison, a sweep's page and
the results index, and `write_reports` (`convwatch report`), which rebuilds them for a tree.

Every page is a single file with relative links to the run folders' own files: it opens from
the file system and from any web server rooted above the runs (`python -m http.server`). A run
folder that is failed, interrupted, partial or old gets a page with what it has, and a note of
what is missing. What a page shows is built as a plain dict (`run_page`, `compare_page`,
`sweep_page`, `index_page`) and drawn by its Jinja2 template (`templates/`); pages are written
through `convwatch.base.atomic`, atomically. Problems are told to `warn` (a function of the
folder and the problem in words) and `write_reports` logs them.

A page that shows a run still going reloads itself (`html.REFRESH_S`): a run's page while the
run is running and alive (`convwatch.base.liveness`), the results index while a run it lists
is, and a sweep's page while one of its runs is or while the sweep has points left to run
and the process that ran its newest point is alive. A page written once that is no longer so
has no reload.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from convwatch.base import atomic, liveness
from convwatch.errors import ConvwatchError
from convwatch.report import compare_page, index_page, run_page, sweep_page
from convwatch.report.html import href, refresh, render
from convwatch.report.learned import Learned
from convwatch.report.reader import (
    SWEEP_JSON,
    Run,
    find_runs,
    find_sweeps,
    is_run,
    load_run,
    read_sweep,
    runs_below,
)

logger = logging.getLogger(__name__)

INDEX = "index.html"
INDEX_TITLE = index_page.TITLE
COMPARE = "compare.html"
# Told of a folder that cannot be read in full, or whose page cannot be written: (folder, why).
Warn = Callable[[Path, str], None]


def _ignore(folder: Path, problem: str) -> None:
    """The default `warn`: the pages themselves say what is wrong with a folder."""


def _guarded(folder: Path, warn: Warn, write: Callable[[], Path]) -> Path | None:
    """`write()`, or None and a warning for `folder` when it raises: one folder that cannot be
    read or written never stops the pages of the others."""
    try:
        return write()
    except Exception as error:
        warn(folder, f"page not written ({type(error).__name__}: {error})")
        return None


# --------------------------------------------------------------------------- links up
def _results_index(folder: Path) -> list[tuple[Path, str]]:
    """The nearest results index above `folder` (at most 3 levels up) that convwatch wrote."""
    for parent in list(folder.parents)[:3]:
        try:
            with open(parent / INDEX, encoding="utf-8", errors="replace") as f:
                head = f.read(2000)
        except OSError:
            continue
        if f"<title>{INDEX_TITLE}</title>" in head:
            return [(parent / INDEX, "all runs")]
    return []


def results_root(folder: Path) -> Path | None:
    """The folder of the nearest results index above `folder` that convwatch wrote, or None."""
    found = _results_index(folder)
    return found[0][0].parent if found else None


def _crumbs(folder: Path, levels: Sequence[tuple[Path, str]]) -> list[dict[str, str]]:
    return [{"href": href(p, folder), "text": label} for p, label in levels if p.is_file()]


def _up_links(run_path: Path) -> list[dict[str, str]]:
    levels = _results_index(run_path)
    if (run_path.parent / SWEEP_JSON).is_file():
        levels.append((run_path.parent / INDEX, "this sweep"))
    return _crumbs(run_path, levels)


# --------------------------------------------------------------------------- run page
def render_run(run: Run, crumbs: Sequence[dict[str, str]] = ()) -> str:
    """The report page of one run, to be saved as `<run>/index.html`."""
    return render("run.html", run_page.context(run, crumbs))


def write_run_report(run_path: str | os.PathLike[str], *, warn: Warn | None = None) -> Path:
    """(Re)write `<run>/index.html` from what the run folder holds now. A file that is
    unreadable or of the wrong shape is named on the page and told to `warn`."""
    return _write_run(load_run(run_path), warn or _ignore)


def _write_run(run: Run, warn: Warn) -> Path:
    for problem in run.damaged:
        warn(run.path, problem)
    crumbs = _up_links(run.path)
    try:
        text = render_run(run, crumbs)
    except Exception as error:  # a shape no check foresaw: a plain page still says what is wrong
        problem = f"its page could not be drawn in full ({type(error).__name__}: {error})"
        warn(run.path, problem)
        text = render("run_broken.html", run_page.broken_context(run, problem, crumbs))
    return atomic.write_text(run.path / INDEX, text)


# --------------------------------------------------------------------------- comparison
def render_compare(
    runs: Sequence[Run],
    base: Path,
    title: str = "",
    intro: str = "",
    learned: Learned | str | None = None,
) -> str:
    """The comparison page of `runs`, to be saved in folder `base`; `intro` is a paragraph of
    text under the title; `learned` the section comparing what the networks learned."""
    return render("compare.html", compare_page.context(runs, base, title, intro, learned))


def compare_page_path(out: str | os.PathLike[str]) -> Path:
    """The file the comparison page goes to: `out`, or `out/compare.html` for a folder."""
    out = Path(out)
    if out.is_dir() or out.suffix.lower() not in (".html", ".htm"):
        out = out / COMPARE
    return out


def write_compare_report(
    runs: Sequence[Run],
    out: str | os.PathLike[str],
    title: str = "",
    intro: str = "",
    learned: Learned | str | None = None,
) -> Path:
    """Write the comparison page to `out` (a file, or a folder that gets `compare.html`)."""
    out = compare_page_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic.write_text(out, render_compare(runs, out.parent, title, intro, learned))


# --------------------------------------------------------------------------- sweep page
def write_sweep_report(sweep: str | os.PathLike[str], *, warn: Warn | None = None) -> Path:
    """`<sweep>/index.html`: the sweep's runs compared, with the sweep's overrides; the runs'
    own pages are rewritten too, so that each links up to it."""
    sweep, warn = Path(sweep), warn or _ignore
    paths = runs_below(sweep)
    if not (sweep / INDEX).is_file():
        _write_sweep_page(sweep, paths, warn)  # first, so that the run pages can link to it
    for path in paths:
        _guarded(path, warn, lambda path=path: write_run_report(path, warn=warn))
    return _write_sweep_page(sweep, paths, warn)


def write_sweep_page_alone(sweep: str | os.PathLike[str], *, warn: Warn | None = None) -> Path:
    """`<sweep>/index.html` alone, its runs' pages left as they are: what a sweep point writes
    as it starts, so that the sweep's page shows it running (`convwatch.run.live_page`)."""
    sweep = Path(sweep)
    return _write_sweep_page(sweep, runs_below(sweep), warn or _ignore)


def _write_sweep_page(sweep: Path, paths: Sequence[Path], warn: Warn) -> Path:
    runs = []
    for path in paths:
        try:
            runs.append(load_run(path))
        except Exception as error:
            warn(path, f"could not be read ({type(error).__name__}: {error})")
    listing, problem = read_sweep(sweep)
    if problem:
        warn(sweep, problem)
    crumbs = _crumbs(sweep, _results_index(sweep))
    context = sweep_page.context(sweep, runs, listing, crumbs)
    text = render("sweep.html", {**context, "refresh": refresh(_sweep_going(runs, listing))})
    return atomic.write_text(sweep / INDEX, text)


def _sweep_going(runs: Sequence[Run], listing: dict[str, Any]) -> bool:
    """Whether a sweep's page shows a sweep still going: one of its runs is running and alive,
    or sweep.json has points left to run (none interrupted) and the process that ran the
    newest run is alive (the local launcher, between two points)."""
    if any(run.status == "running" for run in runs):
        return True
    points = listing.get("runs") if isinstance(listing.get("runs"), list) else []
    statuses = [p.get("status") for p in points if isinstance(p, dict)]
    planned = listing.get("planned")
    ended = sum(s in ("completed", "failed") for s in statuses)
    if not runs or "interrupted" in statuses or not isinstance(planned, int) or ended >= planned:
        return False
    newest = max(runs, key=lambda r: (r.started, r.run_id))
    return not liveness.judge({**newest.record, "status": "running"}, newest.path).dead


# --------------------------------------------------------------------------- results index
def render_index(root: Path, runs: Sequence[Run], sweeps: Sequence[Path]) -> str:
    """Every run under `root`, running ones first, then newest first, with links to their pages."""
    return render("index.html", index_page.context(root, runs, sweeps))


def write_results_index(root: str | os.PathLike[str], *, warn: Warn | None = None) -> Path:
    """(Re)write `<root>/index.html` listing every run below it. The first time, every run and
    sweep below gets its page too (older runs had none), linking up to the new index. A run
    folder that cannot be read is told to `warn` and the index lists the others."""
    root, warn = Path(root), warn or _ignore
    new = not (root / INDEX).is_file()
    try:
        paths = find_runs([str(root)])
    except ConvwatchError:  # an empty results folder still gets its (empty) index
        paths = []
    sweeps = find_sweeps(root)
    if new:  # first an empty index, so that the pages link to it
        atomic.write_text(root / INDEX, render_index(root.resolve(), [], []))
        for path in paths:
            _guarded(path, warn, lambda path=path: write_run_report(path, warn=warn))
        for sweep in sweeps:
            _guarded(sweep, warn, lambda sweep=sweep: write_sweep_report(sweep, warn=warn))
    runs = []
    for path in paths:
        try:
            runs.append(load_run(path, artifacts=False))
        except Exception as error:
            warn(path, f"could not be read ({type(error).__name__}: {error}); not listed")
    text = render_index(root.resolve(), runs, [s.resolve() for s in sweeps])
    return atomic.write_text(root / INDEX, text)


# --------------------------------------------------------------------------- a whole tree
def write_reports(paths: Sequence[str]) -> list[Path]:
    """`convwatch report`: rebuild the pages of every run, sweep and results folder named.

    A folder that cannot be read in full (a corrupt or wrong-shaped run.json, config.json,
    metrics.json or history.csv) still gets a page saying what is wrong; each such folder, and
    each whose page could not be written, is one warning ("warning: FOLDER: why") logged after
    the rest are done. Raises ConvwatchError only when a path names no run folder at all.
    """
    troubles: dict[Path, list[str]] = {}

    def warn(folder: Path, problem: str) -> None:
        reasons = troubles.setdefault(Path(os.path.abspath(folder)), [])
        if problem not in reasons:
            reasons.append(problem)

    runs = find_runs(paths, warn=logger.warning)
    written = [_guarded(p, warn, lambda p=p: write_run_report(p, warn=warn)) for p in runs]
    named = [m for p in paths for m in (sorted(glob.glob(p)) if glob.has_magic(p) else [p])]
    for path in dict.fromkeys(Path(p) for p in named):
        if not path.is_dir() or is_run(path):
            continue
        for sweep in find_sweeps(path):
            written.append(
                _guarded(sweep, warn, lambda sweep=sweep: write_sweep_report(sweep, warn=warn))
            )
        if not (path / SWEEP_JSON).is_file():
            written.append(
                _guarded(path, warn, lambda path=path: write_results_index(path, warn=warn))
            )
    for folder, reasons in troubles.items():
        logger.warning("warning: %s: %s", _shown(folder), "; ".join(reasons))
    return [p for p in written if p is not None]


def _shown(folder: Path) -> str:
    """`folder` relative to the working folder when it is below it, else as it is."""
    relative = os.path.relpath(folder)
    return folder.as_posix() if relative.startswith("..") else Path(relative).as_posix()
