"""Reading the IDX files MNIST-style datasets ship in (gzip-compressed or not).

Parsed here rather than by a library so every problem (wrong magic, truncated file, image/label
count mismatch) becomes a DataError that names the file and says what is wrong.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from convwatch.errors import DataError

IMAGES_MAGIC = 2051  # unsigned bytes, 3 dimensions (count, rows, cols)
LABELS_MAGIC = 2049  # unsigned bytes, 1 dimension (count)


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        return raw
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"cannot read IDX file {path}: {error}") from error


def read_idx(path: str | Path, magic: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes, checking its magic number and size."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataError(f"IDX file {path} is truncated: {len(data)} bytes, no header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise DataError(f"IDX file {path} has magic number {found}, expected {magic}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"IDX file {path} is truncated inside its header")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(dims)  # Python ints: a forged header cannot wrap round to a match
    body = len(data) - header
    if body != expected:
        what = "truncated" if body < expected else "too long"
        raise DataError(
            f"IDX file {path} is {what}: header says {dims} = {expected:,} bytes of data, "
            f"found {body:,}"
        )
    try:
        return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()
    except ValueError as error:  # an empty array with dimensions too large for NumPy
        raise DataError(
            f"IDX file {path} has dimensions {dims} NumPy cannot hold: {error}"
        ) from None


def find_idx(directory: Path, stem: str) -> Path | None:
    """Return `directory/stem.gz` or `directory/stem` (uncompressed), whichever exists."""
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def read_split(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one image file and its label file: images (N, H, W, 1) uint8, labels (N,) int64."""
    x = read_idx(images, IMAGES_MAGIC)
    y = read_idx(labels, LABELS_MAGIC)
    if len(x) != len(y):
        raise DataError(f"{images} holds {len(x):,} images but {labels} holds {len(y):,} labels")
    return x[..., np.newaxis], y.astype(np.int64)
