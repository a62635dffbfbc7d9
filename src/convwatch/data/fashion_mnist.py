"""Fashion-MNIST: from FASHION_MNIST_DIR, the Keras cache, Debian's package, or a Keras download.

Searched in that order so a machine without network can still run the Fashion experiments
(`apt-get install dataset-fashion-mnist` puts the four IDX files in
/usr/share/datasets/fashion-mnist). Where Debian's datasets live is read from
CONVWATCH_DEBIAN_DATASETS at each call (default /usr/share/datasets), so the tests can hide this
machine's copy from subprocesses too.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from convwatch.base.keras_cache import keras_cache_dir, offline, short_reason
from convwatch.data.dataset import Dataset
from convwatch.data.idx import find_idx, read_split
from convwatch.errors import DataError

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DEBIAN_DATASETS_ENV = "CONVWATCH_DEBIAN_DATASETS"
DEBIAN_DATASETS = Path("/usr/share/datasets")  # where Debian's dataset-* packages install
DIR_ENV = "FASHION_MNIST_DIR"
STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def debian_fashion_dir() -> Path:
    """`$CONVWATCH_DEBIAN_DATASETS/fashion-mnist`, or /usr/share/datasets/fashion-mnist if unset."""
    return Path(os.environ.get(DEBIAN_DATASETS_ENV) or DEBIAN_DATASETS) / "fashion-mnist"


def _dataset(source: str, x_train, y_train, x_test, y_test) -> Dataset:
    for y in (y_train, y_test):
        if len(y) and (y.min() < 0 or y.max() >= len(CLASS_NAMES)):
            raise DataError(f"Fashion-MNIST labels must be 0..9, found {y.min()}..{y.max()}")
    return Dataset("fashion_mnist", x_train, y_train, x_test, y_test, CLASS_NAMES, source, True)


def read_dir(directory: Path, label: str) -> Dataset | str:
    """The dataset from `directory`, or a string saying which files are missing there."""
    paths = [find_idx(directory, stem) for stem in STEMS]
    missing = [stem for stem, path in zip(STEMS, paths, strict=True) if path is None]
    if not directory.is_dir():
        return f"{label} {directory} (no such folder)"
    if missing:
        return f"{label} {directory} (missing {', '.join(missing)})"
    x_train, y_train = read_split(paths[0], paths[1])
    x_test, y_test = read_split(paths[2], paths[3])
    return _dataset(f"full Fashion-MNIST ({label}: {directory})", x_train, y_train, x_test, y_test)


def load() -> Dataset:
    """Load Fashion-MNIST from the first place that has it; DataError naming them all if none."""
    places: list[tuple[Path, str]] = []
    if os.environ.get(DIR_ENV):
        places.append((Path(os.environ[DIR_ENV]), DIR_ENV))
    debian_label = "Debian package dataset-fashion-mnist"
    if os.environ.get(DEBIAN_DATASETS_ENV):
        debian_label += f" (via {DEBIAN_DATASETS_ENV})"
    places += [
        (keras_cache_dir("datasets") / "fashion-mnist", "Keras cache"),
        (debian_fashion_dir(), debian_label),
    ]
    tried = [] if os.environ.get(DIR_ENV) else [f"{DIR_ENV} (not set)"]
    for directory, label in places:
        found = read_dir(directory, label)
        if isinstance(found, Dataset):
            return found
        tried.append(found)
    if offline():
        tried.append("download (skipped: CONVWATCH_OFFLINE=1)")
    else:
        try:
            import keras  # heavy, and needed only to download

            (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
        except Exception as error:  # any download failure: report it with the rest
            tried.append(f"download ({short_reason(error)})")
        else:
            where = keras_cache_dir("datasets") / "fashion-mnist"
            return _dataset(
                f"full Fashion-MNIST (downloaded by Keras to {where})",
                np.asarray(x_train, np.uint8)[..., np.newaxis],
                np.asarray(y_train, np.int64),
                np.asarray(x_test, np.uint8)[..., np.newaxis],
                np.asarray(y_test, np.int64),
            )
    raise DataError(
        "Fashion-MNIST not found. Tried: " + "; ".join(tried) + ". To fix: "
        "`apt-get install dataset-fashion-mnist`, or set FASHION_MNIST_DIR to a folder holding "
        + ", ".join(f"{stem}.gz" for stem in STEMS)
        + ", or allow the Keras download (unset CONVWATCH_OFFLINE, with network)."
    )
