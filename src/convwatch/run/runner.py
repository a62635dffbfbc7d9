"""Running experiments into run folders: one run or sweep (`run_experiment`), several as one
batch (`run_all`), and carrying an unfinished run or sweep on (`resume_run`).

Each call checks everything first (the experiment, its overrides, the launcher options: a
ConvwatchError before any folder exists), makes the plan (`convwatch.run.launch`), and hands
it to a launcher: `local` runs the points one after another in this process, `ray` as Ray
tasks (`convwatch.run.ray_launcher`). One run's steps are `convwatch.run.engine.run_one`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from convwatch.base import layout, liveness
from convwatch.errors import ConvwatchError
from convwatch.run import batch, publish, record
from convwatch.run.catalog import list_experiments, load_experiment
from convwatch.run.engine import CHECKPOINT, check, resolve_config, run_one
from convwatch.run.folder import RunFolder
from convwatch.run.launch import LaunchOptions, Plan, make_plan, require_ray
from convwatch.run.overrides import apply_overrides, effective_overrides
from convwatch.run.signals import deferred, signals_handled
from convwatch.run.spec import Experiment

__all__ = ["check", "resolve_config", "resume_run", "run_all", "run_experiment", "run_one"]

logger = logging.getLogger(__name__)


def launch_options(
    launcher: str = "local",
    ray_address: str | None = None,
    cpus_per_run: float = 1,
    gpus_per_run: float = 0,
    max_parallel: int | None = None,
) -> LaunchOptions:
    """The checked launcher options; ConvwatchError for a bad value, or for the ray launcher
    where Ray is not installed."""
    options = LaunchOptions(launcher, ray_address, cpus_per_run, gpus_per_run, max_parallel)
    if options.launcher == "ray":
        require_ray()
    return options


def run_experiment(
    name_or_experiment: str | Experiment,
    overrides: Sequence[str] = (),
    results_dir: str | os.PathLike[str] = "results",
    *,
    experiments_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
    launcher: str = "local",
    ray_address: str | None = None,
    cpus_per_run: float = 1,
    gpus_per_run: float = 0,
    max_parallel: int | None = None,
) -> Path:
    """Run an experiment (by name or as an object) with `key=value` overrides; return its folder.

    A sweep (an override with several comma-separated values) runs one run folder per point
    inside one sweep folder, and returns the sweep folder. `launcher="ray"` runs each point
    (a single run too) as a Ray task: on a Ray instance started on this machine's cores, or
    the cluster at `ray_address` ("auto", or $RAY_ADDRESS), `cpus_per_run` and
    `gpus_per_run` each, at most `max_parallel` at once. Bad input raises ConvwatchError before
    any folder is made; a run that fails raises RunFailed after its run.json says why.
    """
    options = launch_options(launcher, ray_address, cpus_per_run, gpus_per_run, max_parallel)
    experiment, variants = resolve_config(name_or_experiment, overrides, experiments_path)
    overrides = effective_overrides(experiment, overrides)
    plan = make_plan(variants, Path(results_dir) / experiment.name, overrides)
    (path,) = _launch([plan], options, command, results_dir)
    return path


def run_all(
    names: Sequence[str] = (),
    overrides: Sequence[str] = (),
    results_dir: str | os.PathLike[str] = "results",
    *,
    experiments_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
    **launcher: Any,
) -> list[Path]:
    """Run several experiments (every one listed where `names` is empty), each with
    `overrides`, as one batch; their folders, in order. On Ray every point of every experiment
    is submitted together. All are checked before any runs; RunFailed at the end names the
    experiments that failed. `launcher`: as for `run_experiment`."""
    options = launch_options(**launcher)
    names = list(names) or list_experiments(experiments_path)
    if not names:
        raise ConvwatchError("no experiments to run (see `convwatch list`)")
    plans: list[Plan] = []
    for name in names:
        experiment, variants = resolve_config(name, overrides, experiments_path)
        effective = effective_overrides(experiment, overrides)
        plans.append(make_plan(variants, Path(results_dir) / experiment.name, effective))
    return _launch(plans, options, command, results_dir)


def _launch(
    plans: Sequence[Plan],
    options: LaunchOptions,
    command: str | None,
    results_dir: str | os.PathLike[str],
) -> list[Path]:
    """The plans, launched with Ctrl-C and SIGTERM handled; the results index after."""
    command = command or record.command_line()
    with batch.connected(options), signals_handled():  # Ray first: it sets its own SIGTERM
        try:
            return batch.launch(plans, options, command)
        finally:
            with deferred():
                if Path(results_dir).is_dir():
                    publish.write_results_page(results_dir)


def resume_run(
    path: str | os.PathLike[str],
    *,
    experiments_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
    **launcher: Any,
) -> Path:
    """Continue an interrupted, failed or dead run in its own folder from its last checkpoint,
    or run a sweep folder's points that did not complete.

    A run whose run.json says running is resumed only once `convwatch.base.liveness` calls it dead;
    while its process lives, the error names the pid and host. The experiment is loaded by name
    and given the run's recorded overrides; its config must still hash as the run's did.
    history.csv keeps the epochs up to the checkpoint and grows. A run folder is continued in
    this process whatever the launcher.

    A sweep folder (with sweep.json) is planned again from the experiment and the overrides
    sweep.json lists; each point whose run folder does not say completed runs anew, with the
    launcher (`launcher`: as for `run_experiment`), into a new run folder that its entry then
    names (the old one is left as it is); then the sweep is summarised as usual.
    """
    options = launch_options(**launcher)
    if (Path(path) / layout.SWEEP_JSON).is_file():
        return _resume_sweep(Path(path), experiments_path, command, options)
    folder = RunFolder(path)
    unfinished, verdict = _resumable(folder)
    experiment = load_experiment(unfinished["name"], experiments_path)
    overrides = unfinished.get("overrides") or []
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise ConvwatchError(f"{folder.path / layout.RUN_JSON}: overrides must be strings")
    (variant,) = apply_overrides(experiment, overrides)
    if variant.config_hash() != unfinished.get("config_hash"):
        raise ConvwatchError(
            f"experiment {unfinished['name']!r} changed since {path} ran (config hash "
            f"{variant.config_hash()} != {unfinished.get('config_hash')}); it cannot be resumed"
        )
    check(variant)
    if record.read_record(folder) != unfinished:  # loading took a while: another resume?
        raise ConvwatchError(
            f"{folder.path / layout.RUN_JSON} changed while {path} was being resumed "
            "(another `convwatch resume`?); nothing was done"
        )
    unfinished["resumed_from"] = {"status": verdict.status, "reason": verdict.reason or None}
    with signals_handled():
        try:
            run_one(variant, folder, command or record.command_line(), overrides, unfinished)
        finally:
            with deferred():  # the pages above the run show its new status too
                publish.refresh_pages_above(folder.path)
    return folder.path


def _resume_sweep(
    path: Path, experiments_path: Any, command: str | None, options: LaunchOptions
) -> Path:
    sweep, todo = batch.resume_sweep(path, experiments_path)
    command = command or record.command_line()
    with batch.connected(options), signals_handled():
        try:
            return batch.run_sweep_points(sweep, todo, options, command)
        finally:
            with deferred():
                publish.refresh_results_above(path)


def _resumable(folder: RunFolder) -> tuple[dict[str, Any], liveness.Verdict]:
    """The run.json of a run that can be resumed, and liveness' verdict on it; a ConvwatchError
    saying why not for a folder that is no run, a completed or live run, or no checkpoint."""
    path = folder.path
    try:
        unfinished = folder.read_run()
    except (OSError, ValueError) as error:
        raise ConvwatchError(
            f"{path} is not a run folder with a readable run.json: {error}"
        ) from None
    if not isinstance(unfinished, dict) or not isinstance(unfinished.get("name"), str):
        raise ConvwatchError(f"{path / layout.RUN_JSON} is not a convwatch run record")
    if unfinished.get("status") == "completed":
        raise ConvwatchError(f"{path} already completed; nothing to resume")
    verdict = liveness.judge(unfinished, path)
    if unfinished.get("status") == "running" and not verdict.dead:
        raise ConvwatchError(
            f"{path} is still running ({verdict.reason}); stop it first. A run is resumable "
            "once its process is gone, or after "
            f"{liveness.span(liveness.dead_after_s())} without a heartbeat"
        )
    epoch = unfinished.get("checkpoint_epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 1:
        raise ConvwatchError(f"{path} has no checkpoint to resume from (none was saved)")
    if not (path / CHECKPOINT).is_file():
        raise ConvwatchError(f"{path} has no checkpoint to resume from ({CHECKPOINT} is missing)")
    return unfinished, verdict
