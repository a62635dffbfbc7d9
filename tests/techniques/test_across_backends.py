"""The same weights give the same maps on TensorFlow, JAX and PyTorch.

The model is trained a little here (random weights leave Grad-CAM with no positive evidence on
some images), its weights saved, and each other installed backend computes the maps in a process
of its own (a Keras backend is chosen once per process).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from tests.techniques import backend_maps

OTHERS = [b for b in ("jax", "torch") if importlib.util.find_spec(b) is not None]
pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="run from the TensorFlow test run, which compares the others with it",
)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    x = rng.random((96, *backend_maps.SHAPE), dtype=np.float32)
    y = (x[:, :6, :6].mean(axis=(1, 2, 3)) > x[:, 6:, 6:].mean(axis=(1, 2, 3))).astype(int)
    y[::3] = 2
    net = backend_maps.model()
    net.compile("adam", "sparse_categorical_crossentropy")
    net.fit(x, y, epochs=3, batch_size=16, verbose=0)
    images = x[:6]
    folder = tmp_path_factory.mktemp("across")
    weights = folder / "weights.npz"
    np.savez(weights, images=images, **{f"w{i}": w for i, w in enumerate(net.get_weights())})
    return weights, backend_maps.maps(net, images)


def _maps_on(backend: str, weights: Path) -> dict[str, np.ndarray]:
    out = weights.with_name(f"{backend}.npz")
    env = {**os.environ, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": ""}
    root = Path(__file__).parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "tests.techniques.backend_maps", str(weights), str(out)],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with np.load(out) as saved:
        assert str(saved["backend"]) == backend
        return {name: saved[name] for name in saved.files if name != "backend"}


@pytest.mark.skipif(not OTHERS, reason="neither JAX nor PyTorch is installed (extras jax, torch)")
@pytest.mark.parametrize("backend", OTHERS)
def test_every_technique_gives_the_same_maps_as_on_tensorflow(reference, backend):
    weights, expected = reference
    got = _maps_on(backend, weights)
    assert set(got) == set(expected)
    for name, want in expected.items():
        assert got[name].shape == want.shape, name
        assert np.abs(want).max() > 0, f"{name}: the reference map is all zero"
        for i, (a, b) in enumerate(zip(want, got[name], strict=True)):
            r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
            assert r >= 0.99, f"{name}, image {i}: correlation {r:.4f} on {backend}"
        # in fact equal to float32 rounding: the same computation
        np.testing.assert_allclose(got[name], want, atol=1e-4 * np.abs(want).max(), err_msg=name)
