"""The runner's last step: the report pages of a run, its sweep and the results index above it.

Pages are written from what the folders hold, by `convwatch.report.pages`. A page that cannot
be written is logged as a warning and never replaces the run's own outcome: the run folder is
complete without it, and `convwatch report` writes it again.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from convwatch.base import atomic, layout
from convwatch.report import pages
from convwatch.run.folder import RunFolder
from convwatch.run.record import read_record, recorded_status

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def _page_errors_logged(writer: str) -> Iterator[None]:
    """Any error in the block is logged as `report page not written (writer): ...`."""
    try:
        yield
    except Exception as error:
        logger.warning(f"report page not written ({writer}): {type(error).__name__}: {error}")


def write_run_page(run: str | os.PathLike[str]) -> None:
    """`<run>/index.html`, from what the run folder holds now."""
    with _page_errors_logged("write_run_report"):
        pages.write_run_report(run)


def write_sweep_page(sweep: str | os.PathLike[str]) -> None:
    """`<sweep>/index.html`, and the pages of the runs in it."""
    with _page_errors_logged("write_sweep_report"):
        pages.write_sweep_report(sweep)


def write_sweep_page_alone(sweep: str | os.PathLike[str]) -> None:
    """`<sweep>/index.html` alone, its runs' pages left as they are (a point's live page)."""
    with _page_errors_logged("write_sweep_page_alone"):
        pages.write_sweep_page_alone(sweep)


def write_results_page(root: str | os.PathLike[str]) -> None:
    """`<root>/index.html`, the list of every run below `root`."""
    with _page_errors_logged("write_results_index"):
        pages.write_results_index(root)


def refresh_pages_above(run: Path) -> None:
    """After a resume: a sweep point's status in sweep.json and the sweep page, and the nearest
    results index above `run`, say how the run stands now."""
    listing = read_record(RunFolder(run.parent), layout.SWEEP_JSON)
    if isinstance(listing, dict) and isinstance(listing.get("runs"), list):
        for point in listing["runs"]:
            if isinstance(point, dict) and point.get("run") == run.name:
                point["status"] = recorded_status(RunFolder(run))
                try:
                    atomic.write_json(run.parent / layout.SWEEP_JSON, listing)
                except OSError as error:  # never in place of the run's own outcome
                    logger.warning(f"sweep.json not updated: {error}")
        write_sweep_page(run.parent)
    refresh_results_above(run)


def refresh_results_above(folder: Path) -> None:
    """The nearest results index above `folder` (a run or sweep), written again."""
    root = pages.results_root(folder)
    if root is not None:
        write_results_page(root)
