"""Fashion-MNIST: found via FASHION_MNIST_DIR, a clear error when nowhere, the real Debian files."""

import gzip

import numpy as np
import pytest

from convwatch.data import fashion_mnist, load_dataset
from convwatch.errors import DataError
from tests.datasets import write_fashion

# The real package's folder, whatever the sandbox (which hides it from the loader) says.
REAL_DEBIAN_DIR = fashion_mnist.DEBIAN_DATASETS / "fashion-mnist"


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """Offline, empty Keras cache, no Debian files, FASHION_MNIST_DIR unset."""
    monkeypatch.setenv("CONVWATCH_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setenv("CONVWATCH_DEBIAN_DATASETS", str(tmp_path / "debian"))
    return tmp_path


@pytest.mark.parametrize("compress", [True, False])
def test_from_env_dir(nowhere, monkeypatch, compress):
    arrays = write_fashion(nowhere / "fm", n_train=30, n_test=10, compress=compress)
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
    assert f"{nowhere / 'debian' / 'fashion-mnist'} (no such folder)" in message
    assert "download (skipped: CONVWATCH_OFFLINE=1)" in message


def test_from_the_debian_folder_named_by_the_env_var(nowhere):
    write_fashion(nowhere / "debian" / "fashion-mnist", n_train=20, n_test=10)
    data = load_dataset("fashion_mnist")
    assert "dataset-fashion-mnist (via CONVWATCH_DEBIAN_DATASETS)" in data.source
    assert str(nowhere / "debian" / "fashion-mnist") in data.source
    assert data.x_train.shape == (20, 28, 28, 1)


def test_the_debian_folder_defaults_to_usr_share_datasets(monkeypatch):
    monkeypatch.delenv("CONVWATCH_DEBIAN_DATASETS")
    assert fashion_mnist.debian_fashion_dir() == REAL_DEBIAN_DIR
    assert str(REAL_DEBIAN_DIR) == "/usr/share/datasets/fashion-mnist"
    monkeypatch.setenv("CONVWATCH_DEBIAN_DATASETS", "")  # empty counts as unset
    assert fashion_mnist.debian_fashion_dir() == REAL_DEBIAN_DIR


def test_the_sandbox_reads_the_generated_set(generated_data):
    data = load_dataset("fashion_mnist")
    assert str(generated_data.fashion_dir) in data.source and "FASHION_MNIST_DIR" in data.source
    assert data.x_train.shape == (600, 28, 28, 1) and data.x_test.shape == (200, 28, 28, 1)
    assert np.bincount(data.y_train).tolist() == [60] * 10
    assert np.bincount(data.y_test).tolist() == [20] * 10


def test_broken_file_is_an_error_naming_it(nowhere, monkeypatch):
    write_fashion(nowhere / "fm")
    (nowhere / "fm" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\0\0\x08\x03"))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(nowhere / "fm"))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        load_dataset("fashion_mnist")


@pytest.mark.skipif(
    not (REAL_DEBIAN_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"real Fashion-MNIST absent: no {REAL_DEBIAN_DIR}/train-images-idx3-ubyte.gz "
    "(apt-get install dataset-fashion-mnist)",
)
def test_real_debian_files(tmp_path, monkeypatch):
    """The real 70,000 images, from the real Debian folder the sandbox otherwise hides."""
    monkeypatch.setenv("CONVWATCH_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.delenv("CONVWATCH_DEBIAN_DATASETS", raising=False)
    full = fashion_mnist.load()
    assert full.x_train.shape == (60000, 28, 28, 1) and full.x_test.shape == (10000, 28, 28, 1)
    assert full.x_train.dtype == np.uint8 and full.full
    assert sorted(np.unique(full.y_train)) == list(range(10))
    assert np.bincount(full.y_test).tolist() == [1000] * 10
    assert "dataset-fashion-mnist" in full.source and str(REAL_DEBIAN_DIR) in full.source
