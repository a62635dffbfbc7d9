"""Interpretation pictures: rows of image | map | overlay; signed gradients centred on grey."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.plots import interpretation_rows, signed_image


def test_rows_have_image_map_and_overlay_columns():
    images = np.random.default_rng(0).random((2, 8, 8, 1))
    maps = np.zeros((2, 8, 8))
    maps[:, 2, 3] = 1.0
    picture = interpretation_rows(images, maps, size=None)
    assert picture.dtype == np.uint8 and picture.shape == (2 * 8 + 1, 3 * 8 + 2, 3)
    # The image column is the gray image; the map column is the colour map (jet: 1 is red).
    np.testing.assert_array_equal(picture[:8, :8, 0], picture[:8, :8, 2])
    assert picture[2, 9 + 3, 0] > picture[2, 9 + 3, 2]  # the hot pixel: red
    assert picture[0, 9, 2] > picture[0, 9, 0]  # a cold one: blue


def test_signed_gradients_map_zero_mean_to_grey_and_keep_their_sign():
    g = np.zeros((1, 4, 4, 1), np.float32)
    g[0, 0, 0] = 1.0
    g[0, 3, 3] = -1.0
    shown = signed_image(g)
    assert shown[0, 1, 1, 0] == pytest.approx(0.5)
    assert shown[0, 0, 0, 0] > 0.5 > shown[0, 3, 3, 0]
    assert interpretation_rows(np.ones((1, 4, 4, 1)), g, signed=True, size=None).shape == (4, 9, 3)


def test_a_map_per_image_is_required():
    with pytest.raises(ValueError, match="one \\(H, W\\) map per image"):
        interpretation_rows(np.ones((2, 4, 4, 1)), np.ones((1, 4, 4)))
