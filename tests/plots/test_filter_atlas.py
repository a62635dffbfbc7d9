"""filter_atlas: one tile per filter, pictures and exemplars scaled up without blur, dead tiles
without pictures, the same size for the same shapes (GIF frames)."""

import numpy as np
import pytest

from convwatch.plots import filter_atlas


def coloured(n, colour, h=5, w=5):
    """`n` pictures that are a checkerboard of `colour` and black, (n, h, w, 3)."""
    board = (np.indices((h, w)).sum(0) % 2).astype(np.float32)
    return np.repeat((board[..., None] * np.asarray(colour, np.float32))[None], n, axis=0)


def find(atlas, colour):
    """Mask of the atlas pixels that are exactly `colour` (0-255)."""
    return np.all(atlas == np.asarray(colour, np.uint8), axis=-1)


def test_pictures_are_nearest_neighbour_blocks_and_dead_tiles_have_none():
    pictures = np.concatenate([coloured(1, (1, 0, 0)), coloured(1, (0, 1, 0))])
    exemplars = np.stack([coloured(4, (0, 0, 1), 3, 3)] * 2)  # (2, 4, 3, 3, 3)
    activations = np.array([[2.0, 1.5, 1.0, 0.5], [0.0, 0.0, 0.0, 0.0]])
    atlas = filter_atlas(pictures, [7, 8], exemplars, activations, dead=[False, True])
    assert atlas.dtype == np.uint8 and atlas.ndim == 3 and atlas.shape[2] == 3
    red = find(atlas, (255, 0, 0))
    rows, cols = np.flatnonzero(red.any(1)), np.flatnonzero(red.any(0))
    # Every row and column of the checkerboard has red in it: its bounding box is the picture.
    scale = (rows[-1] - rows[0] + 1) // 5
    assert rows[-1] - rows[0] + 1 == cols[-1] - cols[0] + 1 == 5 * scale
    block = red[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    board = np.indices((5, 5)).sum(0) % 2 == 1
    # The picture is every pixel a square of `scale`: no interpolated in-between colours.
    np.testing.assert_array_equal(block, np.kron(board, np.ones((scale, scale), bool)))
    assert scale >= 16  # a 5x5 field is drawn at least 80 px wide
    assert not find(atlas, (0, 255, 0)).any()  # the dead filter's picture is not drawn
    # The live filter's 4 exemplars, 4 blue squares each of side s: 16 s^2 pixels (the dead
    # filter's would double it, and 2 s^2 is no square).
    side = np.sqrt(find(atlas, (0, 0, 255)).sum() / 16)
    assert side >= 3 and side == int(side)


def test_same_shapes_give_the_same_size_and_no_exemplars_is_fine():
    rng = np.random.default_rng(0)
    one = filter_atlas(rng.random((15, 10, 10, 1)), range(15), title="conv2, epoch001")
    two = filter_atlas(rng.random((15, 10, 10, 1)), range(15), title="conv2, epoch010")
    assert one.shape == two.shape and not np.array_equal(one, two)
    with_exemplars = filter_atlas(
        rng.random((15, 10, 10, 1)),
        range(15),
        rng.random((15, 9, 10, 10, 1)),
        rng.random((15, 9)),
        subtitle="a long explanation " * 20,  # wrapped onto several lines
    )
    assert with_exemplars.shape[1] > one.shape[1]


def test_one_entry_per_filter():
    with pytest.raises(ValueError, match="one entry per filter"):
        filter_atlas(np.zeros((3, 5, 5, 1)), [0, 1])


def test_pictures_and_patches_larger_than_a_tile_are_shrunk_to_fit():
    import numpy as np

    from convwatch.plots import filter_atlas

    rng = np.random.default_rng(0)
    small = filter_atlas(rng.random((2, 96, 96, 3)), [0, 1], rng.random((2, 9, 40, 40, 3)))
    large = filter_atlas(rng.random((2, 224, 224, 3)), [0, 1], rng.random((2, 9, 224, 224, 3)))
    assert large.shape == small.shape  # the same tiles, whatever the receptive field


def test_the_title_says_which_filters_of_how_many_and_how_deep_pictures_were_made():
    from convwatch.plots import atlas_text

    title, _ = atlas_text("s3", "epoch002", 64, (96, 96), True, False, 9, np.zeros(64), 256, 2048)
    assert title == "s3, epoch002: the 64 most active of 2,048 filters, 0 dead, on 256 probe images"
    title, _ = atlas_text("conv1", "epoch001", 1, (5, 5), True, False)
    assert title == "conv1, epoch001: 1 filter"
    _, deep = atlas_text("s3", "epoch002", 4, (96, 96), True, False, deep=True)
    assert "Fourier spectrum" in deep and "fixed contrast" not in deep


def test_a_long_title_is_wrapped_inside_a_narrow_atlas():
    """An atlas of one filter (the smallest a capture budget draws) is narrower than its
    title: the title wraps onto more lines, none running past the right edge."""
    long = "activation, epoch002: the 1 most active of 16 filters, 0 dead, on 256 probe images"
    short = filter_atlas(coloured(1, (1, 0, 0)), [0], title="conv")
    wrapped = filter_atlas(coloured(1, (1, 0, 0)), [0], title=long)
    assert wrapped.shape[1] == short.shape[1] and wrapped.shape[0] > short.shape[0]
    background = wrapped[0, -1]
    assert np.all(wrapped[:60, -10:] == background)  # no text in the right margin
