"""Wall time of one 4-point sweep run with `--launcher ray` (2 points at a time, one core each)
against `--launcher local` (one point after another, in this process), in this process.

The sweep: `mnist_baseline_cnn` over four seeds, 2 epochs each on the data the loader finds
(the offline MNIST subset here). The local launcher goes first, after a one-point warm-up so
that neither side pays TensorFlow's first start in this process; the Ray side pays what a user
pays: starting Ray on this machine, and a fresh worker process (TensorFlow imported anew) per
point. Prints both times, the ratio (ray / local: under 1 means the cluster launcher wins) and
what the Ray start alone took.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

EXPERIMENT = "mnist_baseline_cnn"
SWEEP = ["seed=1,2,3,4", "fit.epochs=2"]


def _sweep(results: Path, **launcher) -> float:
    from convwatch import run_experiment

    start = time.perf_counter()
    run_experiment(EXPERIMENT, SWEEP, results, **launcher)
    return time.perf_counter() - start


def main() -> None:
    try:
        import ray
    except ImportError:
        print("ray sweep: skipped (Ray is not installed: pip install 'convwatch[ray]')")
        return
    logging.getLogger("convwatch").setLevel(logging.WARNING)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        from convwatch import run_experiment

        run_experiment(EXPERIMENT, ["fit.epochs=1"], Path(tmp) / "warm")  # warm up TensorFlow
        local = _sweep(Path(tmp) / "local")
        started = time.perf_counter()
        ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
        try:
            on_ray = _sweep(Path(tmp) / "ray", launcher="ray", max_parallel=2, cpus_per_run=1)
        finally:
            ray.shutdown()
    on_ray += ray_start
    print(
        f"4-point sweep of {EXPERIMENT} (2 epochs a point) on {cores} cores: "
        f"--launcher ray (2 parallel) {on_ray:.1f} s vs --launcher local {local:.1f} s, "
        f"ratio {on_ray / local:.2f} (of which starting Ray: {ray_start:.1f} s)"
    )


if __name__ == "__main__":
    main()
