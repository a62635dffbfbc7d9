"""When a tracked value reaches its target, and how far it strayed: arrays in, numbers out.

A trace is `(T, C)`: T observations (one per training step) of C channels, e.g. the R, G, B of
one output pixel. "Within tolerance" means every channel at once is within `±tolerance` of its
target. These answer SEEDS 000's questions ("within ±2 of (255, 0, 0) after 312 steps", "it
exploded to about 9,200 first") for any trace, so they are tested on small hand-made ones.
"""

from __future__ import annotations

import numpy as np


def _trace(values, steps) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"values must be (T,) or (T, C). Received shape {values.shape}")
    steps = np.arange(len(values)) if steps is None else np.asarray(steps).reshape(-1)
    if len(steps) != len(values):
        raise ValueError(f"need one step per row. Received {len(steps)} steps, {len(values)} rows")
    return values, steps


def within(values, target, tolerance: float) -> np.ndarray:
    """Boolean `(T,)`: True where every channel is within `±tolerance` of `target` (NaN: False)."""
    values, _ = _trace(values, None)
    target = np.broadcast_to(np.asarray(target, dtype=np.float64), values.shape[1:])
    return np.all(np.abs(values - target) <= tolerance, axis=1)


def steps_to_within(values, target, tolerance: float = 2.0, steps=None) -> int | None:
    """The first step at which the trace is within `±tolerance` of `target`; None if never.

    Args:
        values: `(T, C)` (or `(T,)` for one channel).
        target: `(C,)` or a scalar, the value each channel should reach.
        tolerance: allowed distance per channel. Defaults to 2.0.
        steps: `(T,)` the step number of each row. Defaults to 0, 1, ..., T - 1.
    """
    values, steps = _trace(values, steps)
    hits = np.flatnonzero(within(values, target, tolerance))
    return int(steps[hits[0]]) if hits.size else None


def settled_step(values, target, tolerance: float = 2.0, steps=None) -> int | None:
    """The first step from which the trace stays within tolerance to its end; None if it ends
    outside. Equal to `steps_to_within` when the trace never leaves the band once in it."""
    values, steps = _trace(values, steps)
    inside = within(values, target, tolerance)
    if not inside.size or not inside[-1]:
        return None
    outside = np.flatnonzero(~inside)
    return int(steps[outside[-1] + 1]) if outside.size else int(steps[0])


def peak(values, steps=None) -> tuple[np.ndarray, int | None]:
    """The largest value of each channel over the trace, and the step of the overall largest.

    Returns:
        `(C,)` float64 per-channel maxima (NaN rows ignored) and the step at which the largest
        single value occurred (None for an all-NaN or empty trace).
    """
    values, steps = _trace(values, steps)
    if not values.size or np.all(np.isnan(values)):
        return np.full(values.shape[1], np.nan), None
    filled = np.where(np.isnan(values), -np.inf, values)
    per_channel = filled.max(axis=0)
    row = int(np.argmax(filled.max(axis=1)))
    return np.where(np.isneginf(per_channel), np.nan, per_channel), int(steps[row])
