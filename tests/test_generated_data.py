"""The tests' generated datasets (tests/datasets.py) and the sandbox that makes them the only data.

The files must be in the real formats, balanced, deterministic and learnable; the sandbox must
reach subprocesses (they inherit the environment) and hide Debian's folder whatever the outside
environment says.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.datasets import make_split, write_all

ROOT = Path(__file__).resolve().parents[1]


def test_fashion_files_are_idx_as_the_real_ones(generated_data):
    names = sorted(p.name for p in generated_data.fashion_dir.iterdir())
    assert names == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]
    images = gzip.decompress((generated_data.fashion_dir / names[2]).read_bytes())
    labels = gzip.decompress((generated_data.fashion_dir / names[3]).read_bytes())
    assert struct.unpack(">IIII", images[:16]) == (2051, 600, 28, 28)
    assert len(images) == 16 + 600 * 28 * 28
    assert struct.unpack(">II", labels[:8]) == (2049, 600)
    assert np.bincount(np.frombuffer(labels[8:], np.uint8)).tolist() == [60] * 10


def test_mnist_npz_is_in_the_keras_format(generated_data):
    with np.load(generated_data.mnist_npz, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["x_test", "x_train", "y_test", "y_train"]
        assert npz["x_train"].shape == (600, 28, 28) and npz["x_test"].shape == (200, 28, 28)
        assert {npz[k].dtype for k in npz.files} == {np.dtype(np.uint8)}
        assert np.bincount(npz["y_test"]).tolist() == [20] * 10


def test_generation_is_deterministic(tmp_path):
    first, second = write_all(tmp_path / "a"), write_all(tmp_path / "b")
    files = [sorted(data.fashion_dir.iterdir()) for data in (first, second)]
    assert [p.name for p in files[0]] == [p.name for p in files[1]]
    for a, b in zip(*files, strict=True):
        assert a.read_bytes() == b.read_bytes()
    with np.load(first.mnist_npz) as a, np.load(second.mnist_npz) as b:  # zip stamps times
        for key in ("x_train", "y_train", "x_test", "y_test"):
            np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.parametrize("kind", ["digits", "fashion"])
def test_images_depend_on_their_class(kind):
    """A nearest-class-mean classifier fit on one split gets most of another split right."""
    x_train, y_train = make_split(kind, 600, 1)
    x_test, y_test = make_split(kind, 200, 2)
    assert 10 < x_train.mean() < 100 and x_train.max() == 255  # dark background, bright shapes
    means = np.stack([x_train[y_train == c].reshape(-1, 784).mean(0) for c in range(10)])
    distances = ((x_test.reshape(-1, 1, 784) - means[None]) ** 2).sum(-1)
    assert (distances.argmin(1) == y_test).mean() > 0.7  # chance is 0.1


def test_the_sandbox_reaches_subprocesses(generated_data):
    code = (
        "import json, os; from convwatch.data import load_dataset;"
        "d = {n: load_dataset(n) for n in ('mnist', 'fashion_mnist')};"
        "print(json.dumps({n: [v.source, len(v.y_train)] for n, v in d.items()}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["mnist"][1] == 600 and os.environ["KERAS_HOME"] in seen["mnist"][0]
    assert seen["fashion_mnist"] == [
        f"full Fashion-MNIST (FASHION_MNIST_DIR: {generated_data.fashion_dir})",
        600,
    ]


def test_the_sandbox_hides_debians_folder(generated_data):
    assert os.environ["CONVWATCH_DEBIAN_DATASETS"] == str(generated_data.no_debian)
    assert not any(generated_data.no_debian.iterdir())


@pytest.fixture(scope="module")
def loaded_by_a_module_fixture():
    """What a module-scoped fixture (set up outside any test's sandbox) loads."""
    from convwatch.data import load_dataset

    return {name: load_dataset(name).source for name in ("mnist", "fashion_mnist")}


def test_module_scoped_fixtures_see_the_generated_data_too(loaded_by_a_module_fixture):
    assert loaded_by_a_module_fixture["mnist"].startswith("full MNIST (Keras cache: ")
    assert "session_keras_home" in loaded_by_a_module_fixture["mnist"]
    assert "generated_data" in loaded_by_a_module_fixture["fashion_mnist"]
