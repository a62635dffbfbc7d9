"""Where Keras keeps what it downloads (datasets, model weights), and whether downloads are allowed.

Loaders look in the Keras cache before downloading, and honour CONVWATCH_OFFLINE=1 (tests set it)
so that nothing ever tries the network when it must not. ImageNet backbones are only ever read
from the cache (`convwatch.techniques.backbones`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

OFFLINE_ENV = "CONVWATCH_OFFLINE"
CACHE_SUBFOLDERS = ("datasets", "models")  # keras.utils.get_file's cache_subdir for each kind


def keras_cache_dir(subfolder: Literal["datasets", "models"]) -> Path:
    """Keras' cache folder for `subfolder`: `$KERAS_HOME/<subfolder>` if KERAS_HOME is set, else
    `~/.keras/<subfolder>`.

    Args:
        subfolder: `"datasets"` (what `keras.datasets` downloads) or `"models"` (weights files
            of `keras.applications`).
    """
    if subfolder not in CACHE_SUBFOLDERS:
        raise ValueError(
            f"subfolder must be one of {', '.join(map(repr, CACHE_SUBFOLDERS))}. "
            f"Received: subfolder={subfolder!r}"
        )
    home = os.environ.get("KERAS_HOME")
    base = Path(home) if home else Path.home() / ".keras"
    return base / subfolder


def offline() -> bool:
    """True when CONVWATCH_OFFLINE is set to 1/true/yes: never attempt a download."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes")


def short_reason(error: BaseException) -> str:
    """One line describing why a download (or read) failed, for the `source` string."""
    text = " ".join(str(error).split()) or "no message"
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(error).__name__}: {text}"
