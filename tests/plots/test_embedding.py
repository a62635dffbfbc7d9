"""Embedding pictures: maps with each class where its points are, GIF frames of maps at one scale,
neighbour strips, thumbnail placement."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convwatch.base.atomic import write_png
from convwatch.plots import (
    map_frames,
    map_image,
    map_limits,
    neighbour_strips,
    thumbnail_map,
)


def test_map_image_draws_each_class_in_its_colour_with_y_up(tmp_path):
    # class 0 at the bottom left, class 1 at the top right: tab10's blue and orange there
    coords = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5)
    labels = np.array([0] * 5 + [1] * 5)
    image = map_image(coords, labels, ["zero", "one"], title="t-SNE", size=(320, 240), dot=4)
    assert image.shape == (240, 320, 3) and image.dtype == np.uint8
    mask = (image.astype(int) - [31, 119, 180]).__abs__().sum(-1) < 60  # tab10 blue
    rows, cols = np.nonzero(mask[:, :262])  # the map's area, not the legend (right of it)
    assert rows.min() > 150 and cols.max() < 60  # bottom left
    mask = (image.astype(int) - [255, 127, 14]).__abs__().sum(-1) < 60  # tab10 orange
    rows, cols = np.nonzero(mask[:, :262])
    assert rows.max() < 100 and cols.min() > 120  # top right
    with Image.open(write_png(tmp_path / "map.png", image)) as png:
        assert png.size == (320, 240)


def test_map_image_rejects_mismatched_lengths_and_no_room():
    with pytest.raises(ValueError, match="coords"):
        map_image(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="no room"):
        map_image(np.zeros((3, 2)), np.zeros(3), ["a very long class name indeed"], size=(60, 40))


def test_map_frames_share_size_axes_and_colours():
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 3
    first = rng.normal(size=(60, 2)) + labels[:, None] * 4
    maps = [first, first * 2.0, first + [10.0, 0.0]]  # spread and moved: one set of limits
    frames = map_frames(maps, labels, ["epoch 1", "epoch 2", "epoch 3"], ["a", "b", "c"])
    assert len(frames) == 3
    assert {f.shape for f in frames} == {(384, 512, 3)} and frames[0].dtype == np.uint8
    assert not np.array_equal(frames[0], frames[1])
    # the legend (right of the map) is the same in every frame: same classes, same colours
    for frame in frames[1:]:
        np.testing.assert_array_equal(frame[:, -30:], frames[0][:, -30:])
    x0, x1, y0, y1 = map_limits(maps)
    every = np.concatenate(maps)
    assert x0 < every[:, 0].min() and x1 > every[:, 0].max()
    assert y0 < every[:, 1].min() and y1 > every[:, 1].max()
    with pytest.raises(ValueError, match="one title per map"):
        map_frames(maps, labels, ["epoch 1"])


def test_neighbour_strips_place_the_queries_first_and_mark_other_classes_red():
    images = np.random.default_rng(0).integers(0, 256, (10, 12, 12, 1), dtype=np.uint8)
    labels = np.arange(10) % 3
    red = lambda image: ((image[..., 0] > 150) & (image[..., 1:] < 80).all(-1)).sum()  # noqa: E731
    strips = neighbour_strips(images, [0, 1], [[3, 6, 2], [4, 5, 7]], labels, ["a", "b", "c"])
    assert strips.dtype == np.uint8 and strips.ndim == 3
    # 12-pixel images scaled 7x; the first panel is query 0, under its heading
    top, left = 22, 10
    np.testing.assert_array_equal(
        strips[top : top + 84 : 7, left : left + 84 : 7, 0], images[0, ..., 0]
    )
    assert red(strips) > 0  # neighbour 2 ("c") of query 0 ("a"), 5 ("c") of query 1 ("b")
    same = neighbour_strips(images, [0, 1], [[3, 6, 9], [4, 7, 1]], labels, ["a", "b", "c"])
    assert red(same) == 0  # every neighbour of its query's class


def test_thumbnail_map_places_thumbnails_with_y_up():
    # Two black 8x8 thumbnails at (0, 0) and (1, 1); y points up, as in the scatter plot.
    images = np.zeros((2, 8, 8), np.float32)
    canvas = thumbnail_map([[0, 0], [1, 1]], images, size=100, thumb=10)
    assert canvas.shape == (100, 100) and canvas.dtype == np.uint8
    assert canvas[95, 5] == 0  # (0, 0): bottom-left corner
    assert canvas[5, 95] == 0  # (1, 1): top-right corner
    assert canvas[5, 5] == 255 and canvas[95, 95] == 255  # the other corners stay white
    assert (canvas == 0).sum() == 2 * 10 * 10  # exactly two 10x10 thumbnails, nothing else


def test_thumbnail_map_later_images_on_top_and_rgb():
    images = np.zeros((2, 4, 4, 3), np.uint8)
    images[0, ..., 0] = 255  # red, drawn first
    images[1, ..., 2] = 255  # blue, drawn over it at the same place
    canvas = thumbnail_map([[0, 0], [0, 0]], images, size=40, thumb=8)
    assert canvas.shape == (40, 40, 3)
    np.testing.assert_array_equal(canvas[20, 20], [0, 0, 255])  # a single point is centred
    assert not (canvas == [255, 0, 0]).all(axis=-1).any()  # no red left showing: blue covers it


def test_thumbnail_map_default_thumb_keeps_aspect():
    canvas = thumbnail_map(np.zeros((1, 2)), np.zeros((1, 14, 28, 1)), size=800)
    rows, cols = np.nonzero(canvas < 255)
    assert np.ptp(cols) + 1 == 32 and np.ptp(rows) + 1 == 16  # long side 800 // 25, aspect kept
