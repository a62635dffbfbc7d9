"""The local launcher: a plan's points one after another, in this process.

A single run goes into `<parent>/<timestamp>-<hash>`; a sweep's points each into a run folder
made as it starts, inside the sweep folder, with sweep.json and the sweep page updated after
every point. A failed point does not stop the rest; Ctrl-C stops the sweep after the point
running has recorded itself interrupted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from convwatch.errors import RunFailed
from convwatch.run.engine import run_one
from convwatch.run.folder import RunFolder
from convwatch.run.launch import Point
from convwatch.run.signals import deferred
from convwatch.run.sweep_record import SweepRecord

logger = logging.getLogger(__name__)


def run_single(point: Point, parent: Path, command: str) -> Path:
    """The one point of a plan that is no sweep, into a new run folder under `parent`."""
    folder = RunFolder.create(parent, point.config_hash)
    run_one(point.experiment, folder, command, point.overrides)
    return folder.path


def run_points(sweep: SweepRecord, indices: Sequence[int], command: str) -> None:
    """Run the sweep's points `indices`, in order; each entry of sweep.json says how it went."""
    planned = len(sweep.plan.points)
    for index in indices:
        point = sweep.plan.points[index]
        logger.info(f"sweep run {index + 1}/{planned}: {point.label}")
        folder = RunFolder.create(sweep.path, point.config_hash)
        sweep.set(index, run=folder.path.name, status="running")
        try:
            run_one(point.experiment, folder, command, point.overrides)
        except RunFailed:
            pass
        except KeyboardInterrupt:
            done = sum(r["status"] == "completed" for r in sweep.runs)
            logger.warning(f"sweep interrupted: {done} of {planned} runs completed ({sweep.path})")
            raise
        finally:
            with deferred():
                sweep.set(index, status=sweep.status_from_folder(index))
                sweep.write_page()
