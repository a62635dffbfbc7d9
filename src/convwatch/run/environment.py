"""What a run ran on: versions, host, devices and the git commit, for run.json."""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any


def git_commit(folder: Path) -> str | None:
    """The commit `folder` is checked out at ("+dirty" when it has uncommitted changes), or None."""
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def describe(folder: Path) -> dict[str, Any]:
    """Versions, host and devices, as plain JSON data."""
    import keras
    import numpy
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    return {
        "git_commit": git_commit(folder),
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": numpy.__version__,
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "device": ", ".join(gpus)
        if gpus
        else f"CPU ({platform.processor() or platform.machine()})",
    }
