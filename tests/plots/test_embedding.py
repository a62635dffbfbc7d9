"""Embedding pictures: scatter and neighbour figures saved and reopened, GIF frames of maps on
fixed axes, thumbnail placement."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convwatch.base.atomic import write_figure
from convwatch.plots import (
    map_frames,
    map_limits,
    neighbour_strips_figure,
    scatter_figure,
    thumbnail_map,
)


def test_scatter_figure_saves_a_png(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 200)
    coords = rng.normal(size=(200, 2)) + labels[:, None]
    fig = scatter_figure(coords, labels, class_names=[f"c{i}" for i in range(10)], title="t-SNE")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:2] == ["c0", "c1"]
    with Image.open(write_figure(tmp_path / "scatter.png", fig)) as png:
        assert png.format == "PNG" and png.width > 0 and png.height > 0


def test_scatter_figure_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="coords"):
        scatter_figure(np.zeros((3, 2)), np.zeros(4))


def test_map_frames_share_size_axes_and_colours():
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 3
    first = rng.normal(size=(60, 2)) + labels[:, None] * 4
    maps = [first, first * 2.0, first + [10.0, 0.0]]  # spread and moved: one set of limits
    frames = map_frames(maps, labels, ["epoch 1", "epoch 2", "epoch 3"], ["a", "b", "c"])
    assert len(frames) == 3
    assert {f.shape for f in frames} == {(384, 512, 3)} and frames[0].dtype == np.uint8
    assert not np.array_equal(frames[0], frames[1])
    # the legend (right of the axes) is the same in every frame: same classes, same colours
    for frame in frames[1:]:
        np.testing.assert_array_equal(frame[60:200, 400:], frames[0][60:200, 400:])
    x0, x1, y0, y1 = map_limits(maps)
    every = np.concatenate(maps)
    assert x0 < every[:, 0].min() and x1 > every[:, 0].max()
    assert y0 < every[:, 1].min() and y1 > every[:, 1].max()
    with pytest.raises(ValueError, match="one title per map"):
        map_frames(maps, labels, ["epoch 1"])


def test_neighbour_strips_figure_saves_a_png(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (10, 12, 12, 1), dtype=np.uint8)
    labels = np.arange(10) % 3
    fig = neighbour_strips_figure(
        images, [0, 1], [[3, 6, 2], [4, 5, 7]], labels=labels, class_names=["a", "b", "c"]
    )
    (ax,) = fig.axes  # one image, the panels drawn into it
    texts = [(t.get_text(), t.get_color()) for t in ax.texts]
    assert texts[:4] == [("query: a", "black"), ("a", "black"), ("a", "black"), ("c", "red")]
    shown = ax.images[0].get_array()
    np.testing.assert_allclose(shown[4:16, :12], images[0, ..., 0] / 255)  # query 0 at top left
    with Image.open(write_figure(tmp_path / "strips.png", fig)) as png:
        assert png.width > 0 and png.height > 0


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
