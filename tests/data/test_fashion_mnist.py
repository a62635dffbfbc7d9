"""Fashion-MNIST: found via FASHION_MNIST_DIR, a clear error when nowhere, the real Debian files."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from convwatch.data import fashion_mnist, load_dataset
from convwatch.data.idx import IMAGES_MAGIC, LABELS_MAGIC
from convwatch.errors import DataError


def write_idx(path: Path, array: np.ndarray, magic: int, compress: bool = True) -> None:
    raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    raw += array.astype(np.uint8).tobytes()
    if compress:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)


def write_fashion(directory: Path, n_train: int = 30, n_test: int = 10, compress: bool = True):
    """Tiny synthetic Fashion-MNIST: 28x28 images, labels cycling 0..9."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = np.arange(n) % 10
        write_idx(directory / f"{split}-images-idx3-ubyte", x, IMAGES_MAGIC, compress)
        write_idx(directory / f"{split}-labels-idx1-ubyte", y, LABELS_MAGIC, compress)
        arrays[split] = (x, y)
    return arrays


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """Offline, empty Keras cache, no Debian files, FASHION_MNIST_DIR unset."""
    monkeypatch.setenv("CONVWATCH_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FASHION_DIR", tmp_path / "debian")
    return tmp_path


@pytest.mark.parametrize("compress", [True, False])
def test_from_env_dir(nowhere, monkeypatch, compress):
    arrays = write_fashion(nowhere / "fm", compress=compress)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(nowhere / "fm"))
    data = load_dataset("fashion_mnist")
    assert data.name == "fashion_mnist" and data.full
    assert data.x_train.shape == (30, 28, 28, 1) and data.x_test.shape == (10, 28, 28, 1)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.x_train[..., 0], arrays["train"][0])
    np.testing.assert_array_equal(data.y_test, arrays["t10k"][1])
    assert "FASHION_MNIST_DIR" in data.source and data.class_names[9] == "Ankle boot"


def test_from_keras_cache(nowhere):
    write_fashion(nowhere / "keras" / "datasets" / "fashion-mnist")
    assert "Keras cache" in load_dataset("fashion_mnist").source


def test_missing_everywhere(nowhere):
    with pytest.raises(DataError) as error:
        load_dataset("fashion_mnist")
    message = str(error.value)
    for expected in ("FASHION_MNIST_DIR", "apt-get install dataset-fashion-mnist", "Keras cache"):
        assert expected in message


def test_broken_file_is_an_error_naming_it(nowhere, monkeypatch):
    write_fashion(nowhere / "fm")
    (nowhere / "fm" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\0\0\x08\x03"))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(nowhere / "fm"))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        load_dataset("fashion_mnist")


@pytest.mark.skipif(
    not (fashion_mnist.DEBIAN_FASHION_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason="Debian package dataset-fashion-mnist not installed",
)
def test_real_debian_files(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVWATCH_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    full = fashion_mnist.load()
    assert full.x_train.shape == (60000, 28, 28, 1) and full.x_test.shape == (10000, 28, 28, 1)
    assert full.x_train.dtype == np.uint8 and full.full
    assert sorted(np.unique(full.y_train)) == list(range(10))
    assert np.bincount(full.y_test).tolist() == [1000] * 10
    assert "dataset-fashion-mnist" in full.source
