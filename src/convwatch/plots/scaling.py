"""Scaling values to [0, 1] for display, shared by the murals and the stage grids."""

from __future__ import annotations

import math

import numpy as np


def min_max(x: np.ndarray) -> np.ndarray:
    """Scale `x` to [0, 1]; a constant array becomes all zeros (a dead map shows dark)."""
    low, high = float(x.min()), float(x.max())
    if high - low <= 0 or not math.isfinite(high - low):
        return np.zeros_like(x)
    return (x - low) / (high - low)


def display_range(images) -> tuple[float, float]:
    """`(low, high)` that maps `images` to [0, 1] for drawing: (0, 1) for images already in
    it, else their own extremes, from 0 (0-255 for most keras.applications networks)."""
    if images is None or np.size(images) == 0:
        return 0.0, 1.0
    low, high = float(np.min(images)), float(np.max(images))
    if low >= 0.0 and high <= 1.0:
        return 0.0, 1.0
    low = min(low, 0.0)
    return low, high if high > low else low + 1.0
