"""Small generated MNIST and Fashion-MNIST files in their real formats, for hermetic tests.

conftest's sandbox points every loader at these (Fashion-MNIST's four IDX `*-ubyte.gz` files,
a Keras-format `mnist.npz`), so no test reads this machine's datasets or the network. Each class
has its own pattern (strokes for the digits, filled shapes for the clothes), shifted by a few
pixels, dimmed and noised per image: a net can learn them and the pictures are not pure noise.
Generation is deterministic and takes milliseconds.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convwatch.data.idx import IMAGES_MAGIC, LABELS_MAGIC

N_TRAIN, N_TEST = 600, 200  # 60 / 20 images per class
SIDE = 28
CLASSES = 10
SHIFT = 2  # images move up to this many pixels each way from their class's pattern


def _patterns(kind: str) -> np.ndarray:
    """(10, 28, 28) float patterns in [0, 1], one per class: "digits" or "fashion"."""
    rows, cols = np.mgrid[0:SIDE, 0:SIDE] - (SIDE - 1) / 2
    patterns = np.zeros((CLASSES, SIDE, SIDE))
    for c in range(CLASSES):
        if kind == "digits":  # a stroke through the centre at a class angle, a dot beside it
            angle = np.pi * c / CLASSES
            along = cols * np.cos(angle) + rows * np.sin(angle)
            across = -cols * np.sin(angle) + rows * np.cos(angle)
            stroke = (np.abs(across) < 1.6) & (np.abs(along) < 9)
            dot_r, dot_c = 7 * np.sin(2 * np.pi * c / CLASSES), 7 * np.cos(2 * np.pi * c / CLASSES)
            dot = (rows - dot_r) ** 2 + (cols - dot_c) ** 2 < 6
            patterns[c] = stroke | dot
        elif kind == "fashion":  # a filled ellipse of a class width and height, a class texture
            half_width, half_height = 3 + 2 * (c % 5), 11 - 4 * (c // 5)
            shape = (cols / half_width) ** 2 + (rows / half_height) ** 2 < 1
            texture = 0.75 + 0.25 * np.cos((rows + cols * (c % 3)) * (1 + c) / 3)
            patterns[c] = shape * texture
        else:
            raise ValueError(f"kind must be 'digits' or 'fashion', got {kind!r}")
    return patterns


def make_split(kind: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` uint8 images (n, 28, 28) of `kind` and their int64 labels, balanced over 0..9."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % CLASSES)
    shift_r, shift_c = rng.integers(-SHIFT, SHIFT + 1, size=(2, n))
    index = np.arange(SIDE)
    rows = (index[None, :] - shift_r[:, None]) % SIDE  # np.roll of each image, all at once
    cols = (index[None, :] - shift_c[:, None]) % SIDE
    images = _patterns(kind)[labels[:, None, None], rows[:, :, None], cols[:, None, :]]
    images = images * rng.uniform(0.6, 1.0, size=(n, 1, 1))
    images = images + rng.normal(0.0, 0.08, size=images.shape)
    return np.round(np.clip(images, 0, 1) * 255).astype(np.uint8), labels.astype(np.int64)


def write_idx(path: Path, array: np.ndarray, magic: int, compress: bool = True) -> None:
    """`array` as an IDX file of unsigned bytes at `path` (plus ".gz" when `compress`)."""
    raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    raw += array.astype(np.uint8).tobytes()
    if compress:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))
    else:
        path.write_bytes(raw)


def write_fashion(
    directory: Path, n_train: int = N_TRAIN, n_test: int = N_TEST, compress: bool = True
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST's four IDX files in `directory`; returns {"train"|"t10k": (x, y)}."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n, seed in (("train", n_train, 10), ("t10k", n_test, 11)):
        x, y = make_split("fashion", n, seed)
        write_idx(directory / f"{split}-images-idx3-ubyte", x, IMAGES_MAGIC, compress)
        write_idx(directory / f"{split}-labels-idx1-ubyte", y, LABELS_MAGIC, compress)
        arrays[split] = (x, y)
    return arrays


def write_mnist_npz(
    path: Path, n_train: int = N_TRAIN, n_test: int = N_TEST
) -> dict[str, np.ndarray]:
    """An `mnist.npz` as Keras caches it (x_train (N, 28, 28) uint8, y_train uint8, x_test,
    y_test) at `path`; returns its arrays."""
    (x_train, y_train), (x_test, y_test) = (
        make_split("digits", n_train, 20),
        make_split("digits", n_test, 21),
    )
    arrays = {
        "x_train": x_train,
        "y_train": y_train.astype(np.uint8),
        "x_test": x_test,
        "y_test": y_test.astype(np.uint8),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return arrays


@dataclass(frozen=True)
class GeneratedData:
    """Where `write_all` put things: the Fashion-MNIST folder, mnist.npz, an empty Debian root."""

    fashion_dir: Path
    mnist_npz: Path
    no_debian: Path


def write_all(root: Path) -> GeneratedData:
    """Generate the tests' data world under `root` (once per session, from conftest)."""
    data = GeneratedData(root / "fashion-mnist", root / "mnist.npz", root / "no-debian-datasets")
    write_fashion(data.fashion_dir)
    write_mnist_npz(data.mnist_npz)
    data.no_debian.mkdir(parents=True, exist_ok=True)
    return data
