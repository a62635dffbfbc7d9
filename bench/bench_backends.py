"""Benchmark: the techniques on each installed Keras backend (TensorFlow, JAX, PyTorch), same run.

A Keras backend is chosen once per process, so each backend runs in a worker process of its own,
one after another, on the untrained 30/15-filter MNIST net (timing does not depend on the
weights): the ascent of every filter of conv1 (30) and conv2 (15), 30 steps, and saliency,
Grad-CAM and occlusion of 100 images. Each is warmed up first (the first call compiles) and
timed best of 5. The reference is keras.io's per-filter ascent loop (`bench_maximize.py`),
timed in the TensorFlow worker; every backend's ascent is given as a ratio to it.

Run: .venv/bin/python bench/bench_backends.py
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BACKENDS = ("tensorflow", "jax", "torch")
REPEATS = 5
STEPS = 30


def _best(fn) -> float:
    fn()  # warm-up: compiles
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return min(samples)


def worker() -> dict[str, float]:
    """Times on this process's backend, by name."""
    import keras
    import numpy as np

    from convwatch.models import larger_cnn
    from convwatch.techniques import grad_cam, maximize_filters, occlusion_map, saliency_map

    keras.utils.set_random_seed(0)
    model = larger_cnn()
    images = np.random.default_rng(0).random((100, 28, 28, 1), dtype=np.float32)
    times = {
        f"ascent {layer}": _best(lambda layer=layer: maximize_filters(model, layer, steps=STEPS))
        for layer in ("conv1", "conv2")
    }
    times["saliency, 100 images"] = _best(lambda: saliency_map(model, images))
    times["grad_cam, 100 images"] = _best(lambda: grad_cam(model, images))
    times["occlusion, 100 images"] = _best(lambda: occlusion_map(model, images, stride=2))
    if keras.backend.backend() == "tensorflow":
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_maximize import keras_io_loop

        for layer, n in (("conv1", 30), ("conv2", 15)):
            times[f"keras.io loop {layer}"] = _best(keras_io_loop(model, layer, range(n)))
    return times


def main() -> int:
    found = {}
    for backend in BACKENDS:
        if importlib.util.find_spec(backend) is None:
            print(f"{backend}: not installed (the `{backend}` extra), left out")
            continue
        result = subprocess.run(
            [sys.executable, __file__, "--worker"],
            env={**os.environ, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": ""},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            print(f"{backend}: the worker failed:\n{result.stderr[-2000:]}")
            continue
        found[backend] = json.loads(result.stdout.strip().splitlines()[-1])
    reference = found.get("tensorflow", {})
    rows = [k for k in next(iter(found.values()), {}) if not k.startswith("keras.io")]
    print(f"{'':24}" + "".join(f"{b:>14}" for b in found))
    for row in rows:
        print(f"{row:24}" + "".join(f"{t[row]:13.3f}s" for t in found.values()))
    for layer in ("conv1", "conv2"):
        ref = reference.get(f"keras.io loop {layer}")
        if ref:
            ratios = "".join(f"{ref / t[f'ascent {layer}']:13.1f}x" for t in found.values())
            print(f"{'vs keras.io ' + layer:24}{ratios}   (keras.io's TF loop: {ref:.3f} s)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        print(json.dumps(worker()))
        raise SystemExit(0)
    raise SystemExit(main())
