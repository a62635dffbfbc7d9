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
