"""Where Keras keeps downloaded datasets, and whether downloads are allowed.

Loaders look in the Keras cache before downloading, and honour CONVWATCH_OFFLINE=1 (tests set it)
so that nothing ever tries the network when it must not.
"""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE_ENV = "CONVWATCH_OFFLINE"


def keras_cache_dir() -> Path:
    """Return `$KERAS_HOME/datasets` if KERAS_HOME is set, else `~/.keras/datasets`."""
    home = os.environ.get("KERAS_HOME")
    base = Path(home) if home else Path.home() / ".keras"
    return base / "datasets"


def offline() -> bool:
    """True when CONVWATCH_OFFLINE is set to 1/true/yes: never attempt a download."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes")


def short_reason(error: BaseException) -> str:
    """One line describing why a download (or read) failed, for the `source` string."""
    text = " ".join(str(error).split()) or "no message"
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(error).__name__}: {text}"
