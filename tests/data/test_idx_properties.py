"""The IDX reader on untrusted bytes: any file gives the array or a DataError, never another error.

Dataset files come from wherever a user points FASHION_MNIST_DIR; a truncated download, a wrong
file or random bytes must end in convwatch's own message naming the file.
"""

from __future__ import annotations

import gzip
import struct
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from convwatch.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, read_split
from convwatch.errors import DataError

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAGICS = st.sampled_from([IMAGES_MAGIC, LABELS_MAGIC])


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def read(data: bytes, magic: int, name: str = "file") -> np.ndarray | DataError:
    """What the reader makes of `data` on disk: the array, or the DataError it raised."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return read_idx(path, magic)
        except DataError as error:
            assert str(path) in str(error)  # the message names the file
            return error


@FUZZ
@given(data=st.binary(max_size=64), magic=MAGICS, compress=st.booleans())
def test_random_bytes_give_an_array_or_a_data_error(data, magic, compress):
    read(gzip.compress(data) if compress else data, magic)


@FUZZ
@given(data=st.binary(max_size=64), magic=MAGICS)
def test_random_bytes_behind_a_gzip_signature_give_a_data_error(data, magic):
    assert isinstance(read(b"\x1f\x8b" + data, magic), DataError)


@FUZZ
@example(dims=[2**21, 2**21, 2**22], body=b"")  # 2**64 bytes: wraps to 0 in int64
@example(dims=[0, 3036988439, 3037012561], body=b"")  # empty, yet too large for NumPy
@given(
    dims=st.lists(st.integers(0, 2**32 - 1), min_size=3, max_size=3), body=st.binary(max_size=32)
)
def test_any_header_dimensions_give_an_array_or_a_data_error(dims, body):
    """Huge dimensions (whose product overflows 64 bits) must not wrap round to a match."""
    header = struct.pack(">I", IMAGES_MAGIC) + b"".join(struct.pack(">I", d) for d in dims)
    found = read(header + body, IMAGES_MAGIC)
    if isinstance(found, np.ndarray):
        assert found.shape == tuple(dims) and found.size == len(body)


images = st.tuples(st.integers(1, 5), st.integers(1, 6), st.integers(1, 6)).flatmap(
    lambda shape: st.binary(min_size=int(np.prod(shape)), max_size=int(np.prod(shape))).map(
        lambda raw: np.frombuffer(raw, np.uint8).reshape(shape)
    )
)


@FUZZ
@given(array=images, data=st.data(), compress=st.booleans())
def test_a_valid_file_reads_back_and_every_truncation_is_refused(array, data, compress):
    raw = idx_bytes(array, IMAGES_MAGIC)
    np.testing.assert_array_equal(
        read(gzip.compress(raw) if compress else raw, IMAGES_MAGIC), array
    )
    cut = data.draw(st.integers(0, len(raw) - 1), label="cut")
    stored = gzip.compress(raw[:cut]) if compress else raw[:cut]
    assert isinstance(read(stored, IMAGES_MAGIC), DataError)
    if compress:  # a gzip stream cut short is a broken download
        full = gzip.compress(raw)
        assert isinstance(
            read(full[: data.draw(st.integers(2, len(full) - 1))], IMAGES_MAGIC), DataError
        )


@FUZZ
@given(n_images=st.integers(0, 4), n_labels=st.integers(0, 4), label=st.binary(max_size=8))
def test_a_split_reads_or_names_the_mismatch(n_images, n_labels, label):
    with tempfile.TemporaryDirectory() as folder:
        x_path, y_path = Path(folder) / "images", Path(folder) / "labels"
        x_path.write_bytes(idx_bytes(np.zeros((n_images, 2, 2)), IMAGES_MAGIC))
        y_path.write_bytes(idx_bytes(np.zeros(n_labels), LABELS_MAGIC) + label)
        try:
            x, y = read_split(x_path, y_path)
        except DataError as error:
            assert "labels" in str(error)
        else:
            assert len(x) == len(y) == n_images == n_labels and not label
