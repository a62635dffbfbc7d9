"""Stratified subsets for quick runs and tests (`data.limit=N`).

Each class keeps its share of the images (largest-remainder rounding, so every class count is
within 1 of proportional), picked deterministically from the seed, in the source's order.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from convwatch.data.dataset import Dataset
from convwatch.errors import DataError


def class_quotas(labels: np.ndarray, n: int) -> dict[int, int]:
    """How many of each class a subset of `n` gets: proportional, largest remainder rounding."""
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n / counts.sum()
    quotas = np.floor(exact).astype(np.int64)
    order = sorted(range(len(classes)), key=lambda i: (-(exact[i] - quotas[i]), classes[i]))
    for i in order[: n - int(quotas.sum())]:
        quotas[i] += 1
    return {int(c): int(q) for c, q in zip(classes, quotas, strict=True)}


def stratified_indices(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of a stratified subset of `n` items (sorted); all indices if `n` >= len(labels)."""
    if n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(np.flatnonzero(labels == c), size=q, replace=False)
        for c, q in class_quotas(labels, n).items()
    ]
    return np.sort(np.concatenate(chosen))


def _check_limit(option: str, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise DataError(f"{option} must be a positive whole number of images, got {value!r}")


def apply_limits(data: Dataset, limit: int | None, test_limit: int | None, seed: int) -> Dataset:
    """Cut the train (and test) split to stratified subsets; notes say what was applied."""
    _check_limit("limit", limit)
    _check_limit("test_limit", test_limit)
    arrays = {}
    notes = list(data.notes)
    splits = (
        ("train", limit, data.x_train, data.y_train, seed),
        ("test", test_limit, data.x_test, data.y_test, seed + 1),
    )
    for split, n, x, y, split_seed in splits:
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
        if n is None:
            continue
        option = "limit" if split == "train" else "test_limit"
        if n >= len(y):
            notes.append(f"{option}={n:,} is not below the {len(y):,} {split} images; kept all")
            continue
        keep = stratified_indices(y, int(n), split_seed)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x[keep], y[keep]
        notes.append(
            f"{option}={n:,}: stratified subset of {n:,} of the {len(y):,} {split} images "
            f"(seed {seed})"
        )
    return dataclasses.replace(data, **arrays, notes=tuple(notes))
