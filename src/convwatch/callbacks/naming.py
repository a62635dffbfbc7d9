"""File names for layer captures: a layer path like `backbone/conv1` becomes `backbone__conv1`."""

from __future__ import annotations

import re


def file_stem(layer: str) -> str:
    """A layer name made safe as a file name (and an NPZ key)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", layer.replace("/", "__")).strip("._") or "layer"
