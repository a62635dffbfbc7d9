"""Interpretation figures: labelled rows, titled columns, a colour bar per map, a note on an
all-zero map, pictures big enough to read; signed gradients centred on grey."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.plots import MapColumn, interpretation_figure, signed_image
from convwatch.plots.interpretation import row_label

NAMES = ["shirt", "shoe", "bag"]


def _figure(maps=None, **column):
    images = np.random.default_rng(0).random((2, 28, 28, 1))
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])  # right, then wrong (bag)
    if maps is None:
        maps = np.random.default_rng(1).random((2, 28, 28))
    columns = [MapColumn(maps, "saliency", "|gradient| of p(true)", overlay=True, **column)]
    return interpretation_figure(images, columns, [0, 1], probabilities, NAMES, "how to read")


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_row_label_names_the_true_and_predicted_class_with_their_probabilities():
    text = row_label(1, [0.1, 0.3, 0.6], NAMES)
    assert text == "true: shoe, p 0.30\npredicted: bag, p 0.60"
    assert row_label(0, [2.0, 1.0], None, score="score").startswith("true: 0, score 2.00")


def test_columns_are_titled_and_every_map_has_a_labelled_colour_bar():
    import matplotlib.pyplot as plt

    fig = _figure()
    image, tile, bar, overlay = fig.axes[:4]  # row 0: image, map, its colour bar, overlay
    assert image.get_title() == "true: shirt, p 0.70\npredicted: shirt, p 0.70"
    assert fig.axes[4].get_title() == "true: shoe, p 0.30\npredicted: bag, p 0.60"
    assert image.title.get_color() != fig.axes[4].title.get_color()  # right vs wrong
    assert (tile.get_title(), overlay.get_title()) == ("saliency", "over the image")
    colour_bars = [ax for ax in fig.axes if ax.get_ylabel() == "|gradient| of p(true)"]
    assert colour_bars == [bar, fig.axes[6]]  # one per row
    assert "how to read" in fig.texts[0].get_text()  # the suptitle
    plt.close(fig)


def test_pictures_are_drawn_big_and_pixel_for_pixel():
    import matplotlib.pyplot as plt

    fig = _figure()
    fig.canvas.draw()
    for ax in (fig.axes[0], fig.axes[1], fig.axes[3]):
        box = ax.get_window_extent()  # pixels at the figure's 100 dpi, as results writes it
        assert fig.dpi == 100 and min(box.width, box.height) >= 112
        assert ax.images[0].get_interpolation() == "nearest"
    plt.close(fig)


def test_an_all_zero_map_says_so_on_its_row_and_only_there():
    import matplotlib.pyplot as plt

    maps = np.random.default_rng(1).random((2, 28, 28))
    maps[1] = 0.0
    fig = _figure(maps, empty="no positive evidence\nfor this class")
    rows = [fig.axes[:4], fig.axes[4:8]]
    assert not any(_texts(ax) for ax in rows[0])
    assert _texts(rows[1][1]) == _texts(rows[1][3]) == ["no positive evidence\nfor this class"]
    plt.close(fig)


def test_signed_maps_sit_on_a_scale_centred_on_zero_shared_by_the_row():
    import matplotlib.pyplot as plt

    images = np.zeros((1, 8, 8, 1))
    a, b = np.zeros((1, 8, 8)), np.zeros((1, 8, 8))
    a[0, 1, 1], b[0, 2, 2] = 0.5, -0.2
    columns = [
        MapColumn(m, t, "drop in p(true)", diverging=True) for m, t in ((a, "grey"), (b, "bg"))
    ]
    fig = interpretation_figure(images, columns, [0], [[0.9, 0.1]])
    for ax in (fig.axes[1], fig.axes[3]):
        assert ax.images[0].get_clim() == (-0.5, 0.5)  # the row's largest |value|, both maps
        assert ax.images[0].get_cmap().name == "RdBu_r"
    plt.close(fig)


def test_signed_gradients_map_zero_mean_to_grey_and_keep_their_sign():
    g = np.zeros((1, 4, 4, 1), np.float32)
    g[0, 0, 0] = 1.0
    g[0, 3, 3] = -1.0
    shown = signed_image(g)
    assert shown[0, 1, 1, 0] == pytest.approx(0.5)
    assert shown[0, 0, 0, 0] > 0.5 > shown[0, 3, 3, 0]


def test_a_map_and_a_label_per_image_are_required():
    column = MapColumn(np.ones((1, 4, 4)), "saliency", "x")
    with pytest.raises(ValueError, match="one \\(H, W\\) map per image"):
        interpretation_figure(np.ones((2, 4, 4, 1)), [column], [0, 1], np.ones((2, 2)) / 2)
    with pytest.raises(ValueError, match="a label and outputs per image"):
        interpretation_figure(np.ones((1, 4, 4, 1)), [column], [0, 1], np.ones((1, 2)) / 2)


def test_colour_images_and_signed_colour_gradients_are_shown_as_pictures():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(2)
    gradients = rng.normal(size=(1, 8, 8, 3))
    column = MapColumn(gradients, "guided backprop", "guided gradient", diverging=True)
    fig = interpretation_figure(rng.random((1, 8, 8, 3)), [column], [1], [[0.2, 0.8]])
    image, tile, bar = fig.axes
    assert image.images[0].get_array().shape == tile.images[0].get_array().shape == (8, 8, 3)
    assert tile.get_xlabel() == "guided gradient\n(grey: 0)" and not bar.axison  # no scale
    plt.close(fig)
