"""nearest_neighbours: hand-made points with known answers; never the query itself."""

import numpy as np
import pytest

from convwatch.techniques import nearest_neighbours
from convwatch.techniques import neighbours as module


def test_points_on_a_line():
    points = np.array([[0.0], [1.0], [3.0], [7.0], [15.0]])
    # Distances from 0: 1, 3, 7, 15; from 3: 2 (to 1), 3 (to 0), 4 (to 7); ...
    expected = np.array([[1, 2], [0, 2], [1, 0], [2, 1], [3, 2]])
    np.testing.assert_array_equal(nearest_neighbours(points, k=2), expected)


def test_queries_and_duplicates():
    points = np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 0.0], [0.0, 1.0]])
    got = nearest_neighbours(points, k=2, queries=[0, 2])
    # Row 0's duplicate (row 2) is at distance 0 and comes first, but row 0 itself never.
    np.testing.assert_array_equal(got, [[2, 3], [0, 3]])
    assert got.dtype == np.int64


def test_never_returns_the_query(monkeypatch):
    monkeypatch.setattr(module, "_BLOCK", 7)  # several query blocks
    features = np.random.default_rng(0).normal(size=(30, 4, 2))  # flattened to (30, 8)
    got = nearest_neighbours(features, k=29)
    assert got.shape == (30, 29)
    assert not np.any(got == np.arange(30)[:, None])
    # Brute force: full sort of the distances, dropping the query.
    flat = features.reshape(30, -1)
    d = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_array_equal(got[:, :5], np.argsort(d, axis=1)[:, :5])


def test_bad_k():
    with pytest.raises(ValueError, match="k must be between 1 and n - 1 = 2"):
        nearest_neighbours(np.zeros((3, 2)), k=3)
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbours(np.zeros((3, 2)), k=0)
