"""What a Ray worker does with one point: run it into a staging folder, then hand it over.

The task gets plain data (`job`): the variant pickled by the driver, its overrides, the command
line, the CPUs Ray gave it, the folder it belongs in and the driver's marker token. Its worker
process sizes TensorFlow's thread pools to those CPUs before TensorFlow starts (all points of a
launch ask the same CPUs, so a worker that runs several keeps the size). Where the worker sees
the driver's folder (the marker reads back), it runs into `<dest>/.incoming-...` and renames
the finished folder into place itself; otherwise it runs into a temporary folder here and
returns the folder as a tar. A point that fails is a finished folder too: its run.json says
failed, with the error and traceback.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import pickle
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from convwatch.errors import ConvwatchError, RunFailed
from convwatch.run import staging
from convwatch.run.engine import run_one
from convwatch.run.folder import RunFolder
from convwatch.run.record import recorded_status

logger = logging.getLogger(__name__)

THREAD_VARIABLES = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
TEMP_PREFIX = "convwatch-point-"  # then the worker's pid: a folder whose process is gone is stale
SHARED_VARIABLE = "CONVWATCH_RAY_SHARED"  # "0": always send the folder back, never write in place


def limit_threads(cpus: float) -> int:
    """Size TensorFlow's (and OpenMP's) thread pools to `cpus` (at least 1), before TensorFlow
    makes them; returns the thread count."""
    threads = max(1, math.floor(cpus))
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    import tensorflow as tf

    threading = tf.config.threading
    if threading.get_intra_op_parallelism_threads() == threads:  # a worker's earlier point
        return threads
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError as error:  # TensorFlow already started in this process
        logger.warning(f"TensorFlow thread pools not sized to {threads}: {error}")
    return threads


def _remove_dead_workers_folders() -> None:
    """Remove the temporary folders of points whose worker was killed on this machine (a killed
    process never ran its clean-up); a folder whose pid lives, or cannot be told, stays."""
    for folder in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        try:
            os.kill(int(folder.name[len(TEMP_PREFIX) :].split("-")[0]), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, OSError):  # not ours, or alive under another user
            continue


def shared_disk(dest: Path, token: str | None) -> bool:
    """Whether to write into `dest` directly: the driver's marker reads back here, and
    $CONVWATCH_RAY_SHARED is not 0."""
    if os.environ.get(SHARED_VARIABLE, "") == "0" or not token:
        return False
    return staging.shares(dest, token)


def run_point(job: dict[str, Any]) -> dict[str, Any]:
    """Run one point (see the module docstring); returns its run folder's name and status, and,
    where the folder could not be written in place, the folder as `tar` bytes."""
    limit_threads(job["cpus"])
    experiment = pickle.loads(job["experiment"])  # after limit_threads: it may import Keras
    dest, shared = Path(job["dest"]), shared_disk(Path(job["dest"]), job.get("token"))
    if shared:
        where = dest / staging.staging_name(job["tag"], secrets.token_hex(4))
        where.mkdir()
    else:
        _remove_dead_workers_folders()
        where = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
    try:
        folder = RunFolder.create(where, experiment.config_hash())
        with contextlib.suppress(RunFailed, ConvwatchError):  # run.json says why
            run_one(experiment, folder, job["command"], job["overrides"])
        result = {"run": folder.path.name, "status": recorded_status(folder), "shared": shared}
        if shared:
            result["run"] = staging.place(folder.path, dest).name
        else:
            result["tar"] = staging.pack(folder.path)
        return result
    finally:
        shutil.rmtree(where, ignore_errors=True)
