"""Murals: exact grids from hand-made arrays, per-tile normalisation, kernel layouts."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.base.atomic import write_figure
from convwatch.plots import feature_map_mural, filter_mural, mural_figure, tile, to_uint8_frame


def test_tile_exact_grid_with_padding_and_empty_slot():
    # Three 2x2 tiles on 2 columns, pad 1 of value 9: tile i holds i in its top-left corner.
    images = np.zeros((3, 2, 2), np.float32)
    images[:, 0, 0] = [1, 2, 3]
    grid = tile(images, cols=2, pad=1, pad_value=9, normalize="none")
    expected = np.array(
        [
            [1, 0, 9, 2, 0],
            [0, 0, 9, 0, 0],
            [9, 9, 9, 9, 9],  # the padding row between tile rows
            [3, 0, 9, 9, 9],  # tile 2, then the empty slot filled with pad_value
            [0, 0, 9, 9, 9],
        ],
        np.float32,
    )
    np.testing.assert_array_equal(grid, expected)


def test_tile_default_columns_and_no_pad():
    grid = tile(np.ones((5, 3, 4)), pad=0, normalize="none")
    assert grid.shape == (2 * 3, 3 * 4)  # ceil(sqrt(5)) = 3 columns, 2 rows


def test_tile_normalises_each_tile_on_its_own():
    # Tile 0 spans 0..10, tile 1 spans -1..1: each maps to exactly 0..1.
    images = np.array([[[0.0, 5.0], [10.0, 10.0]], [[-1.0, 0.0], [1.0, 1.0]]])
    grid = tile(images, cols=2, pad=1, pad_value=-7)
    np.testing.assert_allclose(grid[:, :2], [[0, 0.5], [1, 1]])
    np.testing.assert_allclose(grid[:, 3:], [[0, 0.5], [1, 1]])
    np.testing.assert_array_equal(grid[:, 2], [-7, -7])


def test_tile_global_and_constant_tiles():
    images = np.array([[[0.0, 2.0]], [[4.0, 4.0]]])  # (2, 1, 2)
    glob = tile(images, cols=2, pad=0, normalize="global")
    np.testing.assert_allclose(glob, [[0, 0.5, 1, 1]])
    each = tile(images, cols=2, pad=0, normalize="each")
    np.testing.assert_allclose(each, [[0, 1, 0, 0]])  # a constant tile becomes zeros


def test_tile_rgb_keeps_colour_and_squeezes_one_channel():
    rgb = np.zeros((2, 2, 2, 3))
    rgb[0, ..., 0] = 1.0  # a pure red tile
    rgb[1, ..., 2] = 0.5  # a half-blue tile, scaled over its three channels together
    grid = tile(rgb, cols=2, pad=1)
    assert grid.shape == (2, 5, 3)
    np.testing.assert_allclose(grid[0, 0], [1, 0, 0])
    np.testing.assert_allclose(grid[0, 3], [0, 0, 1])
    np.testing.assert_allclose(grid[0, 2], [1, 1, 1])  # padding
    assert tile(np.ones((4, 3, 3, 1))).shape == (7, 7)


@pytest.mark.parametrize(
    "bad", [np.ones((2, 3)), np.ones((2, 3, 3, 2)), np.ones((0, 3, 3))], ids=str
)
def test_tile_rejects_bad_shapes(bad):
    with pytest.raises(ValueError, match="images"):
        tile(bad)


def test_tile_rejects_unknown_normalize():
    with pytest.raises(ValueError, match="normalize"):
        tile(np.ones((1, 2, 2)), normalize="per-tile")


def test_feature_map_mural_one_tile_per_map():
    maps = np.random.default_rng(0).random((1, 26, 26, 32))  # a batch of one is accepted
    grid = feature_map_mural(maps)
    assert grid.shape == (6 * 27 - 1, 6 * 27 - 1)  # 32 maps on ceil(sqrt(32)) = 6 columns
    np.testing.assert_allclose(grid[:26, :26].min(), 0)
    np.testing.assert_allclose(grid[:26, :26].max(), 1)
    # map 7 sits on row 1, column 1
    m = maps[0, :, :, 7]
    np.testing.assert_allclose(grid[27:53, 27:53], (m - m.min()) / (m.max() - m.min()), rtol=1e-5)


def test_filter_mural_gray_kernel_is_grid_of_30_tiles():
    kernel = np.random.default_rng(0).normal(size=(5, 5, 1, 30))
    grid = filter_mural(kernel)
    assert grid.shape == (5 * 6 - 1, 6 * 6 - 1)  # 6 columns, 5 rows of 5x5 tiles
    tile0 = kernel[:, :, 0, 0]
    np.testing.assert_allclose(
        grid[:5, :5], (tile0 - tile0.min()) / np.ptp(tile0), rtol=1e-5, atol=1e-6
    )


def test_filter_mural_rgb_kernel_gives_rgb_grid():
    grid = filter_mural(np.random.default_rng(0).normal(size=(3, 3, 3, 12)))
    assert grid.shape == (3 * 4 - 1, 4 * 4 - 1, 3)  # 12 tiles on 4 columns, 3 rows


def test_filter_mural_many_input_channels_shows_the_mean():
    kernel = np.zeros((2, 2, 4, 1))
    kernel[0, 0, :, 0] = [1, 1, 1, 1]  # mean 1 at the top-left
    kernel[1, 1, :, 0] = [4, -4, 0, 0]  # mean 0 elsewhere
    np.testing.assert_allclose(filter_mural(kernel), [[1, 0], [0, 0]])


def test_to_uint8_frame_upscales_and_squeezes():
    grid = np.array([[0.0, 1.0], [0.5, 2.0]])[..., None]  # (2, 2, 1), 2.0 is clipped
    frame = to_uint8_frame(grid, size=256)
    assert frame.dtype == np.uint8 and frame.shape == (256, 256)
    assert frame[0, 0] == 0 and frame[0, 255] == 255 and frame[255, 0] == 128
    assert frame[127, 127] == 0 and frame[128, 128] == 255  # whole 128 px blocks
    assert to_uint8_frame(np.zeros((29, 35)), size=256).shape == (29 * 8, 35 * 8)
    assert to_uint8_frame(np.zeros((300, 10, 3)), size=256).shape == (300, 10, 3)
    assert to_uint8_frame(np.zeros((4, 4)), cmap="viridis").shape == (256, 256, 3)


def test_mural_figure_magnifies_tiles(tmp_path):
    from PIL import Image

    grid = tile(np.random.default_rng(0).random((4, 28, 28)), pad=1)  # 57 x 57
    path = write_figure(tmp_path / "mural.png", mural_figure(grid, title="conv1"))
    with Image.open(path) as image:
        width, height = image.size
    assert width >= 3 * 57 and height > width  # at least 3x, plus the title band


def test_nan_padding_is_white_in_frames():
    grid = tile(np.zeros((2, 2, 2)), cols=2, pad=1, pad_value=np.nan)
    gray = to_uint8_frame(grid, size=None)
    assert gray[0, 2] == 255 and gray[0, 0] == 0
    colour = to_uint8_frame(grid, size=None, cmap="viridis")
    np.testing.assert_array_equal(colour[0, 2], [255, 255, 255])


def test_display_range_maps_0_255_images_into_0_1_and_leaves_unit_images_alone():
    import numpy as np

    from convwatch.plots.scaling import display_range

    assert display_range(np.array([0.2, 0.9])) == (0.0, 1.0)
    assert display_range(np.array([3.0, 251.0])) == (0.0, 251.0)  # from 0, to their maximum
    assert display_range(np.array([-1.0, 1.0])) == (-1.0, 1.0)
    assert display_range(np.full(3, 7.0)) == (0.0, 7.0)
    assert display_range(None) == (0.0, 1.0)
