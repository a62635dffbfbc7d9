"""base/atomic.py: every file lands complete, flushed to the disk, with no temporary left over."""

import errno
import os

import numpy as np
import pytest

from convwatch.base import atomic

# The tests tell a folder's descriptor from a file's through /proc (Linux).
pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")


def _is_dir(fd: int) -> bool:
    return os.path.isdir(f"/proc/self/fd/{fd}")


@pytest.fixture
def fsyncs(monkeypatch):
    """Record what each os.fsync flushed: "file" for a regular file, "dir" for a folder."""
    calls = []
    real = os.fsync

    def record(fd):
        calls.append("dir" if _is_dir(fd) else "file")
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", record)
    return calls


def test_write_bytes_flushes_the_file_then_the_folder(tmp_path, fsyncs):
    target = tmp_path / "sub" / "data.bin"
    atomic.write_bytes(target, b"x" * 10_000)
    assert target.read_bytes() == b"x" * 10_000  # complete, in a folder made on the way
    assert fsyncs == ["file", "dir"]  # the data before the rename, the rename after it
    assert os.listdir(target.parent) == ["data.bin"]  # no temporary file left


def test_every_writer_goes_through_the_flushed_rename(tmp_path, fsyncs):
    atomic.write_json(tmp_path / "a.json", {"a": 1})
    atomic.write_csv(tmp_path / "b.csv", [{"x": 1}], ["x"])
    atomic.write_png(tmp_path / "c.png", np.zeros((2, 2), np.uint8))
    atomic.write_npz(tmp_path / "d.npz", {"w": np.arange(3)})
    assert fsyncs == ["file", "dir"] * 4
    assert atomic.read_json(tmp_path / "a.json") == {"a": 1}
    assert atomic.read_csv(tmp_path / "b.csv") == [{"x": "1"}]
    assert atomic.read_npz(tmp_path / "d.npz")["w"].tolist() == [0, 1, 2]
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.csv", "c.png", "d.npz"]


def test_rewriting_replaces_the_whole_file(tmp_path):
    target = tmp_path / "run.json"
    atomic.write_text(target, "a much longer first version\n")
    atomic.write_text(target, "short\n")
    assert target.read_text() == "short\n"
    assert os.listdir(tmp_path) == ["run.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    atomic.write_text(target, "old\n")

    def broken(fd):
        raise OSError(errno.EIO, "disk gone")

    monkeypatch.setattr(atomic.os, "fsync", broken)
    with pytest.raises(OSError, match="disk gone"):
        atomic.write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["metrics.json"]


@pytest.mark.parametrize("code", [errno.EINVAL, errno.EBADF, errno.ENOTSUP])
def test_a_folder_that_cannot_be_flushed_is_tolerated(tmp_path, monkeypatch, code):
    """Some file systems refuse fsync on a directory; the file itself is still flushed."""
    real = os.fsync

    def files_only(fd):
        if _is_dir(fd):
            raise OSError(code, os.strerror(code))
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", files_only)
    atomic.write_text(tmp_path / "a.txt", "done\n")
    assert (tmp_path / "a.txt").read_text() == "done\n"


def test_a_real_error_flushing_the_folder_is_raised(tmp_path, monkeypatch):
    def folder_fails(fd):
        if _is_dir(fd):
            raise OSError(errno.EIO, "i/o error")

    monkeypatch.setattr(atomic.os, "fsync", folder_fails)
    with pytest.raises(OSError, match="i/o error"):
        atomic.fsync_dir(tmp_path)


def test_save_model_flushes_what_keras_wrote(tmp_path, fsyncs, tiny_cnn):
    atomic.save_model(tmp_path / "model.keras", tiny_cnn)
    assert fsyncs == ["file", "dir"]
    assert os.listdir(tmp_path) == ["model.keras"]


def test_npz_round_trips_every_dtype_and_shape_compressed(tmp_path):
    arrays = {
        "maps": np.random.default_rng(0).random((8, 24, 24, 30)).astype(np.float32),
        "zeros": np.zeros((1000, 100), np.float64),  # compresses to almost nothing
        "tags": np.array(["epoch000", "step000001"]),
        "scalar": np.int64(7),
        "empty": np.zeros((0, 3), np.uint8),
    }
    path = atomic.write_npz(tmp_path / "a.npz", arrays)
    with np.load(path, allow_pickle=False) as data:  # NumPy's own loader, no pickles
        assert sorted(data.files) == sorted(arrays)
        for name, value in arrays.items():
            np.testing.assert_array_equal(data[name], value)
            assert data[name].dtype == np.asarray(value).dtype
    raw = sum(np.asarray(v).nbytes for v in arrays.values())
    assert path.stat().st_size < 0.6 * raw  # deflated (the float maps alone are 0.55 of it)
    with pytest.raises(ValueError, match="'bad' is object"):
        atomic.write_npz(tmp_path / "b.npz", {"bad": np.array([{}], dtype=object)})
