"""Partial outputs side by side: one image's feature maps after each of several layers.

Rows are channels (filters), columns are layers (e.g. before ReLU, after ReLU, after pooling),
each map scaled to [0, 1] on its own. A smaller map (after pooling) is enlarged by a whole factor
(nearest neighbour) towards the first layer's size and padded with white (NaN), so one pixel of
it covers the block it summarises. Arrays in, a grid out: nothing here knows Keras.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from convwatch.plots.scaling import min_max


def stages_grid(maps: Mapping[str, Any], pad: int = 2) -> np.ndarray:
    """`{layer: (h, w, F)}` (F the same for all) -> float32 grid `(F rows, len(maps) cols)`.

    Values in [0, 1], padding NaN (white in `to_uint8_frame`, `mural_figure`).
    """
    arrays = [np.asarray(m, np.float32) for m in maps.values()]
    if not arrays or any(a.ndim != 3 for a in arrays) or len({a.shape[-1] for a in arrays}) != 1:
        shapes = {name: np.shape(m) for name, m in maps.items()}
        raise ValueError(f"maps must be (h, w, F) with one F for all. Received: {shapes}")
    height, width = arrays[0].shape[:2]
    enlarged = []
    for a in arrays:
        factor = max(1, round(height / a.shape[0]))
        a = a.repeat(factor, axis=0).repeat(factor, axis=1)[:height, :width]
        height, width = max(height, a.shape[0]), max(width, a.shape[1])
        enlarged.append(a)
    channels = arrays[0].shape[-1]
    grid = np.full(
        (channels * (height + pad) - pad, len(arrays) * (width + pad) - pad), np.nan, np.float32
    )
    for col, a in enumerate(enlarged):
        for row in range(channels):
            top, left = row * (height + pad), col * (width + pad)
            grid[top : top + a.shape[0], left : left + a.shape[1]] = min_max(a[..., row])
    return grid
