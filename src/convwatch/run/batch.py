"""Plans handed to a launcher: one experiment's run or sweep, several (`run-all`), or the points
of a sweep that did not complete (`resume SWEEP`).

With the local launcher the plans run one after another, exactly as a run or sweep always
ran; with the ray launcher every point of every plan is submitted together and each
experiment's folders are what a local run would have made. Sweeps are summarised at the end.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from convwatch.base import liveness
from convwatch.errors import ConvwatchError, RunFailed
from convwatch.run import record, staging
from convwatch.run.engine import resolve_config
from convwatch.run.folder import RunFolder
from convwatch.run.launch import LaunchOptions, Plan, make_plan
from convwatch.run.local_launcher import run_points, run_single
from convwatch.run.sweep_record import SweepRecord, read_listing, reopen

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def connected(options: LaunchOptions) -> Iterator[None]:
    """Ray started or joined for the block, where the launcher is ray (and let go after, where
    this block was the one to start or join it)."""
    if options.launcher != "ray":
        yield
        return
    from convwatch.run import ray_launcher

    started = ray_launcher.connect(options)
    try:
        yield
    finally:
        if started:
            ray_launcher.disconnect()


def launch(plans: Sequence[Plan], options: LaunchOptions, command: str) -> list[Path]:
    """Run every plan; their folders (a run folder, or a sweep folder), in the plans' order.

    One plan raises as a run always did (RunFailed for a failed run or a sweep with a failed
    point); several run to the end, then RunFailed names the ones that failed."""
    if options.launcher == "ray":
        return _launch_ray(plans, options, command)
    if len(plans) == 1:
        return [_local_plan(plans[0], command)]
    paths, failed = [], []
    for plan in plans:
        try:
            paths.append(_local_plan(plan, command))
        except RunFailed as error:
            paths.append(Path(str(error.path)))
            failed.append(error)
    _raise_failed(failed, paths)
    return paths


def _local_plan(plan: Plan, command: str) -> Path:
    if not plan.is_sweep:
        return run_single(plan.points[0], plan.parent, command)
    sweep = SweepRecord.create(plan)
    run_points(sweep, range(len(plan.points)), command)
    return sweep.finish()


def _launch_ray(plans: Sequence[Plan], options: LaunchOptions, command: str) -> list[Path]:
    from convwatch.run.ray_launcher import Job, run_jobs

    jobs: list[Job] = []
    made: list[tuple[SweepRecord | None, list[Job]]] = []
    for plan in plans:
        if plan.is_sweep:
            sweep = SweepRecord.create(plan, listed=True)
            dest = sweep.path.resolve()
            mine = [Job(p, dest, sweep, i) for i, p in enumerate(plan.points)]
            made.append((sweep, mine))
        else:
            _make_folder(plan.parent)
            mine = [Job(plan.points[0], plan.parent.resolve())]
            made.append((None, mine))
        jobs += mine
    run_jobs(jobs, options, command)
    paths, failed = [], []
    for (sweep, mine), plan in zip(made, plans, strict=True):
        try:
            paths.append(sweep.finish() if sweep else _single_outcome(mine[0], plan))
        except RunFailed as error:
            paths.append(Path(str(error.path)))
            failed.append(error)
    if len(plans) == 1 and failed:
        raise failed[0]
    _raise_failed(failed, paths)
    return paths


def _make_folder(parent: Path) -> None:
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConvwatchError(f"cannot create results folder {parent}: {error}") from error


def _single_outcome(job: Any, plan: Plan) -> Path:
    """A single run's folder (as the plan names it), or RunFailed saying why it failed."""
    path = plan.parent / job.run.name if job.run else plan.parent
    if job.status != "completed":
        run = record.read_record(RunFolder(path)) if job.run else None
        error = run.get("error") if isinstance(run, dict) else None
        raise RunFailed(path, str(error or f"the run is {job.status}"))
    return path


def _raise_failed(failed: Sequence[RunFailed], paths: Sequence[Path]) -> None:
    if failed:
        names = [str(error.path) for error in failed]
        raise RunFailed(names[0], f"{len(failed)} of {len(paths)} experiments failed: {names}")


def resume_sweep(path: Path, experiments_path: Any) -> tuple[SweepRecord, list[int]]:
    """The sweep folder `path` planned again from its sweep.json, and the indices of the
    points to run: those whose run folder does not say completed. ConvwatchError where the
    experiment changed since (a listed config hash the plan no longer has) or all completed."""
    listing = read_listing(path)
    overrides = listing.get("overrides") if listing else None
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise ConvwatchError(f"{path / 'sweep.json'} has no list of overrides to plan from")
    name = listing.get("experiment") or path.parent.name
    experiment, variants = resolve_config(str(name), overrides, experiments_path)
    plan = make_plan(variants, path.parent, overrides)
    hashes = {p.config_hash for p in plan.points}
    listed = {e.get("config_hash") for e in listing.get("runs", []) if isinstance(e, dict)}
    if not listed <= hashes:
        raise ConvwatchError(
            f"experiment {name!r} changed since {path} ran (config hashes "
            f"{sorted(listed - hashes)} are no longer planned); the sweep cannot be resumed"
        )
    sweep = reopen(path, plan, listing)
    _refuse_live_points(sweep)
    todo = sweep.unfinished()
    if not todo:
        raise ConvwatchError(f"{path}: every point completed; nothing to resume")
    for leftover in sorted(path.glob(f"{staging.INCOMING}*")):  # a driver that died left it
        logger.warning(f"removing {leftover.name}: a point that never finished, staged there")
        shutil.rmtree(leftover, ignore_errors=True)
    for index in todo:
        sweep.set(index, write=False, status="pending")
    sweep.write()
    logger.info(f"resuming sweep {path}: {len(todo)} of {len(plan.points)} points to run")
    return sweep, todo


def _refuse_live_points(sweep: SweepRecord) -> None:
    """ConvwatchError where a point's run folder says running and its process still lives:
    the sweep is still going (resume it once it stopped, or died)."""
    for entry in sweep.runs:
        folder = sweep.path / entry["run"] if entry.get("run") else None
        run = record.read_record(RunFolder(folder)) if folder else None
        if isinstance(run, dict) and run.get("status") == "running":
            verdict = liveness.judge(run, folder)
            if not verdict.dead:
                raise ConvwatchError(
                    f"{folder} is still running ({verdict.reason}); stop the sweep first"
                )


def run_sweep_points(
    sweep: SweepRecord, indices: Sequence[int], options: LaunchOptions, command: str
) -> Path:
    """Run the points `indices` of `sweep` with the launcher, then summarise the whole sweep."""
    if options.launcher == "ray":
        from convwatch.run.ray_launcher import Job, run_jobs

        dest = sweep.path.resolve()
        points = sweep.plan.points
        run_jobs([Job(points[i], dest, sweep, i) for i in indices], options, command)
    else:
        run_points(sweep, indices, command)
    return sweep.finish()
