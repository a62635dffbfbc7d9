"""The fixed read-out of SEEDS 000: filter i feeds channel i mod 3, averaged."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.models.recombine import recombination_matrix, recombine


def test_twelve_filters_make_four_per_channel():
    matrix = recombination_matrix(12)
    assert matrix.shape == (12, 3) and matrix.dtype == np.float32
    # filters 1, 4, 7, 10 (counted from 1) are red, 2, 5, 8, 11 green, 3, 6, 9, 12 blue
    assert np.flatnonzero(matrix[:, 0]).tolist() == [0, 3, 6, 9]
    assert np.flatnonzero(matrix[:, 1]).tolist() == [1, 4, 7, 10]
    assert np.flatnonzero(matrix[:, 2]).tolist() == [2, 5, 8, 11]
    np.testing.assert_allclose(matrix.sum(axis=0), 1.0)  # a mean, not a sum


def test_hand_made_maps():
    maps = np.arange(1, 13, dtype=np.float32).reshape(1, 1, 1, 12)  # filter i has value i + 1
    image = np.asarray(recombine(maps))
    assert image.shape == (1, 1, 1, 3)
    # red = mean(1, 4, 7, 10), green = mean(2, 5, 8, 11), blue = mean(3, 6, 9, 12)
    np.testing.assert_allclose(image[0, 0, 0], [5.5, 6.5, 7.5])


def test_filters_not_divisible_by_channels_are_averaged_per_channel():
    maps = np.array([[2.0, 10.0, 20.0, 4.0]], np.float32)  # red gets filters 0 and 3
    np.testing.assert_allclose(np.asarray(recombine(maps)), [[3.0, 10.0, 20.0]])


def test_fewer_filters_than_channels_is_refused():
    with pytest.raises(ValueError, match="filters=2, channels=3"):
        recombination_matrix(2)


def test_the_model_layer_applies_it_and_learns_nothing():
    import keras

    from convwatch.models import shapes_reconstruction

    model = shapes_reconstruction(input_shape=(8, 8, 3))
    conv, readout = model.get_layer("conv1"), model.get_layer("recombine")
    assert conv.use_bias is False and conv.padding == "same" and conv.kernel.shape == (6, 6, 3, 12)
    assert readout.trainable_weights == [] and model.count_params() == 6 * 6 * 3 * 12
    assert float(np.abs(np.asarray(conv.kernel)).max()) <= 0.1  # uniform in ±0.1
    x = np.random.default_rng(0).uniform(0, 255, (1, 8, 8, 3)).astype("float32")
    maps = keras.Sequential([keras.Input((8, 8, 3)), conv])(x)
    np.testing.assert_allclose(model(x), recombine(maps), rtol=1e-6)
