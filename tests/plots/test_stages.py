"""stages_grid: a row per channel, a column per layer; pooled maps enlarged, padding NaN."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.plots import stages_grid


def test_pooled_maps_are_enlarged_to_the_first_layers_size():
    conv = np.random.default_rng(0).random((4, 4, 2))
    pool = np.array([[[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])  # (2, 2, 2)
    grid = stages_grid({"conv": conv, "pool": pool}, pad=1)
    assert grid.shape == (2 * 4 + 1, 2 * 4 + 1)
    assert np.isnan(grid[4]).all() and np.isnan(grid[:, 4]).all()  # the padding
    # Channel 0 of the pooled map: each of its pixels covers a 2x2 block.
    np.testing.assert_array_equal(grid[:4, 5:], np.kron([[0, 1], [1, 0]], np.ones((2, 2))))
    with pytest.raises(ValueError, match="one F for all"):
        stages_grid({"a": conv, "b": np.zeros((2, 2, 3))})
