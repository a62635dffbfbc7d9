"""The ray launcher: each point of a plan (or of several, `run-all`) as one Ray task.

Ray executes, convwatch writes the folders. A task's worker sizes TensorFlow's threads to the
CPUs Ray gave it before TensorFlow starts (`convwatch.run.ray_task`; see `max_calls`), and a
task is `max_retries=1`: a point whose worker dies is run once more, then the driver records it
failed in a run folder of its own (config.json, and run.json naming the lost worker). The
driver moves each finished folder into place whole (`convwatch.run.staging`), updates
sweep.json and logs progress as points finish, in any order. Ctrl-C cancels what has not
finished, records it interrupted and re-raises, keeping what completed.
"""

from __future__ import annotations

import logging
import os
import pickle
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convwatch.base import layout
from convwatch.errors import ConvwatchError
from convwatch.run import publish, record, staging
from convwatch.run.folder import RunFolder
from convwatch.run.launch import LaunchOptions, Point
from convwatch.run.ray_task import SHARED_VARIABLE, run_point
from convwatch.run.signals import deferred
from convwatch.run.sweep_record import SweepRecord

logger = logging.getLogger(__name__)

# Passed to every task, so that a worker reads the data, experiments and settings the driver
# reads (on a cluster, these name paths on each machine).
PASSED_ENV = ("KERAS_HOME", "KERAS_BACKEND", "FASHION_MNIST_DIR", "TF_CPP_MIN_LOG_LEVEL")
WAIT_S = 1.0  # ray.wait's timeout: how soon Ctrl-C is seen while every point is running
CANCEL_WAIT_S = 10.0  # how long cancelled tasks get to end before their leftovers go


def max_calls(options: LaunchOptions) -> int:
    """Points a worker process runs before Ray replaces it: 1 for GPU points (TensorFlow keeps
    the GPU it started on, and Ray may give the next task another), else no limit (0): a worker
    keeps its TensorFlow, sized once to `cpus_per_run`, as the local launcher keeps one
    process. Starting a worker and TensorFlow costs seconds per point (measured: a 4-point
    sweep of 2-epoch points took 20.1 s with a fresh worker per point, 13.3 s reusing them)."""
    return 1 if options.gpus_per_run else 0


@dataclass
class Job:
    """One point to run and where its folder goes: the sweep folder (`sweep`, at `index` in
    its plan) or, for a single run, the experiment's folder `dest`."""

    point: Point
    dest: Path
    sweep: SweepRecord | None = None
    index: int = 0
    run: Path | None = None
    status: str = "pending"


def connect(options: LaunchOptions) -> bool:
    """Ray, started or joined; True where this call did it (and so shuts it down after).

    A Ray already initialised in this process is used as it is. Else `options.ray_address`
    (or $RAY_ADDRESS; "auto" finds a cluster started with `ray start`) is joined, or a Ray
    instance is started on this machine's cores."""
    import ray

    if ray.is_initialized():
        return False
    verbose = logging.getLogger("convwatch").isEnabledFor(logging.DEBUG)
    address = options.ray_address or os.environ.get("RAY_ADDRESS")
    try:
        if address:
            ray.init(address=address, log_to_driver=verbose)
        else:
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=verbose)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ConvwatchError(
            f"could not start or join Ray ({address or 'local'}): {error}"
        ) from error
    return True


def disconnect() -> None:
    import ray

    ray.shutdown()


def _env_vars() -> dict[str, str]:
    """The variables every task gets: the CONVWATCH_* and data ones set here, and a
    PYTHONPATH with this process's own import paths (not the interpreter's), so a worker
    imports the experiment and test modules the driver does."""
    env = {k: v for k, v in os.environ.items() if k.startswith("CONVWATCH_") or k in PASSED_ENV}
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    paths = [os.path.abspath(p or os.curdir) for p in sys.path]
    own = [p for p in paths if not any(p.startswith(x) for x in prefixes)]
    extra = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([*own, *filter(None, extra)]))
    return env


def _pickled(point: Point) -> bytes:
    """The variant, with the experiment modules loaded from files (`convwatch.run.catalog`
    names them convwatch_experiments.<name>, which a worker cannot import) pickled by value."""
    from ray import cloudpickle

    for name, module in list(sys.modules.items()):
        if name.startswith("convwatch_experiments.") and module is not None:
            cloudpickle.register_pickle_by_value(module)
    return cloudpickle.dumps(point.experiment, protocol=pickle.HIGHEST_PROTOCOL)


class Driver:
    """Submits the jobs, collects them as they finish, and records every outcome."""

    def __init__(self, jobs: Sequence[Job], options: LaunchOptions, command: str):
        import ray

        self.jobs, self.options, self.command = list(jobs), options, command
        self.token = secrets.token_hex(6)
        self.shared = os.environ.get(SHARED_VARIABLE, "") != "0"
        self.running: dict[Any, int] = {}
        self.queue = list(range(len(self.jobs)))
        self.start = time.monotonic()
        self.remote = ray.remote(
            num_cpus=options.cpus_per_run,
            num_gpus=options.gpus_per_run,
            max_calls=max_calls(options),
            max_retries=1,
            retry_exceptions=False,
        )(run_point).options(runtime_env={"env_vars": _env_vars()})

    def tag(self, number: int) -> str:
        return f"{self.token}-{number}"

    def run(self) -> None:
        """Every job, at most `max_parallel` at once; Ctrl-C cancels the rest (re-raised)."""
        import ray

        dests = {job.dest for job in self.jobs}
        for dest in dests if self.shared else ():
            staging.write_marker(dest, self.token)
        try:
            while self.queue or self.running:
                with deferred():  # a signal lands in ray.wait, never mid-bookkeeping
                    self._submit()
                ready, _ = ray.wait(list(self.running), num_returns=1, timeout=WAIT_S)
                for ref in ready:
                    with deferred():
                        self._finish(self.running.pop(ref), ref)
                    log_progress(self.jobs, len(self.running), self.start)
        except KeyboardInterrupt:
            with deferred():
                self._cancel()
            raise
        finally:
            for dest in dests:
                staging.remove_marker(dest, self.token)

    def _submit(self) -> None:
        limit = self.options.max_parallel or len(self.jobs)
        while self.queue and len(self.running) < limit:
            number = self.queue.pop(0)
            job = self.jobs[number]
            task = {
                "experiment": _pickled(job.point),
                "overrides": list(job.point.overrides),
                "command": self.command,
                "cpus": self.options.cpus_per_run,
                "dest": str(job.dest),
                "tag": self.tag(number),
                "token": self.token if self.shared else None,
            }
            self.running[self.remote.remote(task)] = number
            job.status = "running"
            if job.sweep is not None:
                job.sweep.set(job.index, status="running")

    def _finish(self, number: int, ref: Any) -> None:
        """Job `number` is done: its folder into place (or one made here for a lost worker)."""
        import ray

        job, how = self.jobs[number], "made here"
        try:
            result = ray.get(ref)
        except ray.exceptions.TaskCancelledError:
            job.status, how = "interrupted", "cancelled"
        except ray.exceptions.RayTaskError as error:  # a bug in the task itself
            job.run, job.status = self._lost(number, f"the task failed: {_last_line(error)}")
        except ray.exceptions.RayError as error:  # a worker or node died, twice
            what = f"{type(error).__name__}: {_last_line(error)}"
            job.run, job.status = self._lost(number, f"the Ray worker was lost, twice ({what})")
        else:
            how = "written in place by the worker" if result["shared"] else "sent back"
            if "tar" in result:
                incoming = job.dest / staging.staging_name(self.tag(number), "driver")
                job.run = staging.place(staging.unpack(result["tar"], incoming), job.dest)
            else:
                job.run = job.dest / result["run"]
            job.status = result["status"]
        staging.clean(job.dest, self.tag(number))
        _record(job)
        label = f"{job.point.experiment.name} {job.point.label}".strip()
        logger.info(f"point {label}: {job.status} ({job.run or 'no run folder'}, {how})")

    def _lost(self, number: int, error: str) -> tuple[Path, str]:
        """A failed run folder for job `number`, whose task gave no folder back: config.json,
        and run.json saying failed and why, made in staging and renamed into place."""
        job = self.jobs[number]
        experiment = job.point.experiment
        incoming = job.dest / staging.staging_name(self.tag(number), "lost")
        folder = RunFolder.create(incoming, experiment.config_hash())
        folder.write_json(layout.CONFIG_JSON, experiment.config())
        run = record.first_record(experiment, self.command, job.point.overrides, {})
        run.update(status="failed", error=error, ended=record.now())
        record.write_record(folder, run)
        publish.write_run_page(folder.path)
        logger.error(f"run failed: {error}")
        return staging.place(folder.path, job.dest), "failed"

    def _cancel(self) -> None:
        """Cancel what has not finished; what completed meanwhile is kept, the rest is
        recorded interrupted (with the queue, never started)."""
        import ray

        # What finished meanwhile is kept. The rest is asked to stop (KeyboardInterrupt in the
        # task), then killed: a force-cancel alone of a task that is just ending once aborted
        # this driver inside Ray 2.60 ("Tried to complete task that was not pending").
        for force, wait_s in ((None, 0), (False, CANCEL_WAIT_S / 2), (True, CANCEL_WAIT_S)):
            refs = list(self.running)
            for ref in refs if force is not None else ():
                ray.cancel(ref, force=force)
            ended = ray.wait(refs, num_returns=len(refs), timeout=wait_s)[0] if refs else []
            for ref in ended:
                self._finish(self.running.pop(ref), ref)
        for number in [*self.running.values(), *self.queue]:
            job = self.jobs[number]
            job.status = "interrupted"
            staging.clean(job.dest, self.tag(number))
            _record(job)
        done = sum(job.status == "completed" for job in self.jobs)
        logger.warning(f"interrupted: {done} of {len(self.jobs)} points completed")


def _record(job: Job) -> None:
    """The job's outcome in its sweep's sweep.json and page."""
    if job.sweep is None:
        return
    values = {"status": job.status, **({"run": job.run.name} if job.run else {})}
    job.sweep.set(job.index, **values)
    job.sweep.write_page()


def _last_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[-1] if text else type(error).__name__


def log_progress(jobs: Sequence[Job], running: int, start: float) -> None:
    """One line as each point finishes: done (failed), running, elapsed and an ETA."""
    done = sum(job.status in ("completed", "failed") for job in jobs)
    failed = sum(job.status == "failed" for job in jobs)
    elapsed = time.monotonic() - start
    left = len(jobs) - done
    eta = f", ETA {elapsed / done * left:.0f} s" if done and left else ""
    sweeps = {id(job.sweep) for job in jobs}
    what = "sweep" if len(sweeps) == 1 and jobs[0].sweep is not None else "points"
    logger.info(
        f"{what}: {done}/{len(jobs)} done ({failed} failed), {running} running, "
        f"{elapsed:.0f} s elapsed{eta}"
    )


def run_jobs(jobs: Sequence[Job], options: LaunchOptions, command: str) -> None:
    """Run `jobs` on Ray (already connected: `connect`); each job's run and status say how."""
    Driver(jobs, options, command).run()
