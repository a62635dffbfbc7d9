"""Stratified `limit`: class proportions kept, deterministic per seed, bad limits rejected."""

import numpy as np
import pytest

from convwatch.data import Dataset
from convwatch.data.subset import apply_limits, class_quotas, stratified_indices
from convwatch.errors import DataError

LABELS = np.repeat(np.arange(4), [50, 30, 15, 5])  # unbalanced, 100 items


def make(labels: np.ndarray) -> Dataset:
    x = np.arange(len(labels), dtype=np.uint8).reshape(-1, 1, 1, 1)
    return Dataset("toy", x, labels, x[:20], labels[:20], ("a", "b", "c", "d"), "toy", True)


@pytest.mark.parametrize("n", [1, 7, 33, 99])
def test_proportions_within_one(n):
    keep = stratified_indices(LABELS, n, seed=0)
    assert len(keep) == n == len(set(keep.tolist()))
    counts = np.bincount(LABELS[keep], minlength=4)
    proportional = np.bincount(LABELS) * n / len(LABELS)
    assert np.all(np.abs(counts - proportional) < 1)
    assert sum(class_quotas(LABELS, n).values()) == n


def test_deterministic_per_seed():
    a, b = stratified_indices(LABELS, 20, seed=3), stratified_indices(LABELS, 20, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, stratified_indices(LABELS, 20, seed=4))


def test_apply_limits_notes_and_kept_all():
    data = apply_limits(make(LABELS), limit=10, test_limit=500, seed=0)
    assert len(data.x_train) == 10 and len(data.x_test) == 20
    assert data.y_train.tolist() == LABELS[data.x_train[:, 0, 0, 0]].tolist()
    assert any("limit=10" in n for n in data.notes)
    assert any("kept all" in n for n in data.notes)


@pytest.mark.parametrize("bad", [0, -5, 2.5, True])
def test_bad_limit(bad):
    with pytest.raises(DataError, match="limit"):
        apply_limits(make(LABELS), limit=bad, test_limit=None, seed=0)
