"""The synthetic shapes image: white, pure circles at known centres, swapped-colour target."""

import numpy as np
import pytest

from convwatch.data import load_dataset
from convwatch.data.shapes import COLOURS, shape_centres
from convwatch.errors import DataError


@pytest.mark.parametrize("size", [64, 32, 100])
def test_simple_image(size):
    data = load_dataset("shapes", size=size)
    assert data.x_train.shape == data.y_train.shape == (1, size, size, 3)
    assert data.x_train.dtype == data.y_train.dtype == np.uint8
    assert data.class_names == () and data.full
    image = data.x_train[0]
    assert image[0, 0].tolist() == [255, 255, 255] and image[-1, -1].tolist() == [255, 255, 255]
    for name, (row, col) in shape_centres(size).items():
        assert image[row, col].tolist() == list(COLOURS[name])
    np.testing.assert_array_equal(data.y_train, data.x_train)
    np.testing.assert_array_equal(data.x_test, data.x_train)
    colours = {tuple(p) for p in image.reshape(-1, 3).tolist()}
    assert colours == {(255, 255, 255), *COLOURS.values()}


def test_swap_colors_target():
    data = load_dataset("shapes", target="swap_colors")
    target, centres = data.y_train[0], shape_centres(64)
    assert target[centres["red"]].tolist() == [0, 255, 0]
    assert target[centres["green"]].tolist() == [0, 0, 255]
    assert target[centres["blue"]].tolist() == [255, 0, 0]
    assert data.x_train[0][centres["red"]].tolist() == [255, 0, 0]


def test_complicated_adds_black_but_keeps_centres():
    simple = load_dataset("shapes").x_train[0]
    both = load_dataset("shapes", variant="complicated")
    edges = load_dataset("shapes", target="complicated")
    image = both.x_train[0]
    assert (image.sum(axis=-1) == 0).sum() > 100 and (simple.sum(axis=-1) == 0).sum() == 0
    for name, (row, col) in shape_centres(64).items():
        assert image[row, col].tolist() == list(COLOURS[name])
    np.testing.assert_array_equal(edges.x_train, simple[np.newaxis])
    np.testing.assert_array_equal(edges.y_train, both.x_train)


def test_limit_ignored_with_note():
    data = load_dataset("shapes", limit=5)
    assert data.x_train.shape[0] == 1 and any("ignored" in n for n in data.notes)


@pytest.mark.parametrize(
    ("options", "listed"),
    [
        ({"variant": "fancy"}, "simple, complicated"),
        ({"target": "x"}, "same, swap_colors, complicated"),
        ({"size": 3}, "16"),
        ({"colour": "red"}, "size, variant, target"),
    ],
)
def test_bad_options(options, listed):
    with pytest.raises(DataError, match=listed):
        load_dataset("shapes", **options)
