"""Moving a finished run folder into place, whole or not at all, from wherever it ran.

A point that runs elsewhere (a Ray worker) runs into a staging folder: a temporary folder on
its machine, or, where the results folder is shared, `<dest>/.incoming-<tag>-<random>/`. The
finished run folder is then renamed to `<dest>/<its name>` (on the same filesystem), or sent
back as a tar (`pack`) that the driver unpacks into a staging folder of its own (`unpack`) and
renames. Readers skip folders whose names start with a dot, so a half-finished point never
shows. Whether a worker sees the driver's folders is told by a marker file with a random token:
a worker that reads the same token at the same path shares the disk.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tarfile
from pathlib import Path

from convwatch.base import atomic

INCOMING = ".incoming-"
MARKER = ".convwatch-driver-"


def pack(folder: Path) -> bytes:
    """The folder `folder` as an uncompressed tar whose one top entry is its name."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(folder, arcname=folder.name)
    return buffer.getvalue()


def unpack(data: bytes, staging: Path) -> Path:
    """The run folder in the tar `data`, unpacked into the new folder `staging`."""
    staging.mkdir(parents=True, exist_ok=False)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        tops = {Path(member.name).parts[0] for member in tar.getmembers()}
        if len(tops) != 1:
            raise ValueError(f"a run folder's tar holds one folder, not {sorted(tops)}")
        tar.extractall(staging, filter="data")  # no absolute paths, links out or devices
    return staging / tops.pop()


def place(folder: Path, dest: Path) -> Path:
    """Rename the finished `folder` to `dest/<its name>` (`-2`, `-3`, ... where taken); the
    staging folder it was in goes, if it is left empty."""
    for attempt in range(1, 1000):
        target = dest / (folder.name if attempt == 1 else f"{folder.name}-{attempt}")
        if target.exists():
            continue
        try:
            os.rename(folder, target)
        except OSError:  # made meanwhile by another run
            continue
        with contextlib.suppress(OSError):  # not empty: not a staging folder of its own
            folder.parent.rmdir()
        return target
    raise OSError(f"no free name for {folder.name} in {dest}")


def staging_name(tag: str, what: str) -> str:
    """`.incoming-<tag>-<what>`: a staging folder for the point tagged `tag`."""
    return f"{INCOMING}{tag}-{what}"


def clean(dest: Path, tag: str) -> None:
    """Remove what is left of the point tagged `tag`'s staging folders in `dest` (a worker
    killed mid-run leaves one)."""
    for leftover in dest.glob(staging_name(tag, "*")):
        shutil.rmtree(leftover, ignore_errors=True)


def write_marker(dest: Path, token: str) -> Path:
    """The marker a worker reads to tell that it sees `dest` as the driver does."""
    return atomic.write_text(dest / f"{MARKER}{token}", token)


def shares(dest: Path, token: str) -> bool:
    """Whether this machine reads the driver's marker `token` in `dest`."""
    try:
        return (dest / f"{MARKER}{token}").read_text() == token
    except OSError:
        return False


def remove_marker(dest: Path, token: str) -> None:
    (dest / f"{MARKER}{token}").unlink(missing_ok=True)
