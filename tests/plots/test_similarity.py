"""The CKA heatmap and the matched-filter pairs: labelled, in order, lone pairs marked."""

import numpy as np
import pytest

from convwatch.plots.similarity import ONLY_FILL, Tile, cka_heatmap, matched_filters


def test_the_heatmap_names_both_networks_layers_and_writes_every_value():
    matrix = np.array([[0.99, 0.5], [0.4, float("nan")]])
    same = {"conv1": "conv1", "dense": "out"}
    figure = cka_heatmap(matrix, ["conv1", "dense"], ["conv1", "out"], same, "A", "B", "title")
    (ax, _colorbar) = figure.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["conv1", "dense"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["conv1", "out"]
    assert [t.get_text() for t in ax.texts] == ["0.99", "0.50", "0.40", "n/a"]
    assert len(ax.patches) == 2  # the cells of corresponding layers are boxed
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("B", "A")


def _tile(i, value):
    return Tile(i, np.full((5, 5, 1), value), np.full((4, 3, 3, 1), value))


def test_pairs_are_drawn_in_order_and_a_pair_below_the_threshold_is_marked_alone():
    pairs = [(_tile(0, 1.0), _tile(3, 1.0), 0.95), (_tile(1, 0.0), _tile(2, 0.0), 0.2)]
    image = matched_filters(pairs, ("run #1", "run #2"), "conv1", cols=1)
    assert image.dtype == np.uint8 and image.ndim == 3
    top, bottom = image[: image.shape[0] // 2], image[image.shape[0] // 2 :]
    fill = np.all(image == ONLY_FILL, axis=-1)
    assert not fill[: image.shape[0] // 2].any() and fill[image.shape[0] // 2 :].any()
    assert top.max() == 255 and bottom.min() == 0  # the white pictures first, the black second
    for pair in ((_tile(0, 1.0), None, float("nan")), (None, _tile(4, 1.0), float("nan"))):
        alone = matched_filters([pair], ("A", "B"), "t")  # a filter left over on either side
        assert np.all(alone == ONLY_FILL, axis=-1).any()
    with pytest.raises(ValueError, match="at least one pair"):
        matched_filters([], ("A", "B"), "t")
    with pytest.raises(ValueError, match="each with at least one tile"):
        matched_filters([(None, None, 0.0)], ("A", "B"), "t")
