"""IDX reading: exact round trip, gzip or not, and clear errors on broken files."""

import gzip
import struct

import numpy as np
import pytest

from convwatch.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, read_split
from convwatch.errors import DataError


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_round_trip_gzip_and_plain(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1], dtype=np.uint8)
    (tmp_path / "img.gz").write_bytes(gzip.compress(idx_bytes(images, IMAGES_MAGIC)))
    (tmp_path / "lab").write_bytes(idx_bytes(labels, LABELS_MAGIC))
    np.testing.assert_array_equal(read_idx(tmp_path / "img.gz", IMAGES_MAGIC), images)
    x, y = read_split(tmp_path / "img.gz", tmp_path / "lab")
    assert x.shape == (2, 3, 4, 1) and x.dtype == np.uint8
    np.testing.assert_array_equal(x[..., 0], images)
    assert y.dtype == np.int64 and y.tolist() == [7, 1]


def test_wrong_magic_names_file(tmp_path):
    path = tmp_path / "labels-wrong.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(3), LABELS_MAGIC)))
    with pytest.raises(DataError, match="labels-wrong.gz.*magic number 2049, expected 2051"):
        read_idx(path, IMAGES_MAGIC)


def test_truncated_body_names_file(tmp_path):
    path = tmp_path / "short-images"
    path.write_bytes(idx_bytes(np.zeros((4, 2, 2)), IMAGES_MAGIC)[:-3])
    with pytest.raises(DataError, match="short-images is truncated"):
        read_idx(path, IMAGES_MAGIC)


def test_truncated_gzip_names_file(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((50, 8, 8)), IMAGES_MAGIC))[:-20])
    with pytest.raises(DataError, match="cut.gz"):
        read_idx(path, IMAGES_MAGIC)


def test_count_mismatch_names_both_files(tmp_path):
    (tmp_path / "i").write_bytes(idx_bytes(np.zeros((3, 2, 2)), IMAGES_MAGIC))
    (tmp_path / "l").write_bytes(idx_bytes(np.zeros(2), LABELS_MAGIC))
    with pytest.raises(DataError, match=r"3 images.*2 labels"):
        read_split(tmp_path / "i", tmp_path / "l")
