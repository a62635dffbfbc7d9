"""A process's peak resident memory, reset once its data is loaded: what the benches report."""

from __future__ import annotations

import contextlib
import resource
from pathlib import Path


def reset_peak() -> None:
    """Linux: writing 5 to clear_refs resets the process's peak resident set (VmHWM)."""
    with contextlib.suppress(OSError):  # not Linux: the peak then includes the data loading
        Path("/proc/self/clear_refs").write_text("5")


def peak_mib() -> float:
    """The peak resident set since the last `reset_peak`, in MiB (ru_maxrss elsewhere)."""
    try:
        status = Path("/proc/self/status").read_text().splitlines()
        (line,) = [line for line in status if line.startswith("VmHWM:")]
        return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
