"""Layers and channels worth showing: one layer per stage of a deep net, the small nets as they
were, the most active channels, and the memory a pass holds."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.techniques.channels import channel_energy, most_active
from convwatch.techniques.memory import batch_for, footprint
from convwatch.techniques.stages import default_layers, stage_layers
from tests.residual import FORMS, STAGES, residual_net


@pytest.mark.parametrize("form", FORMS)
def test_one_layer_per_stage_in_every_form(form):
    model = residual_net(form)
    assert stage_layers(model) == STAGES
    # more than one convolution per resolution: a deep net, shown stage by stage
    assert default_layers(model, ("conv",)) == STAGES
    assert default_layers(model, ("conv", "pool", "dense")) == STAGES


def test_small_nets_keep_every_layer_they_showed():
    from convwatch.models.builders import larger_cnn
    from convwatch.techniques import find_layers

    model = larger_cnn()  # the 30/15 net: one conv per resolution
    assert default_layers(model, ("conv",)) == ["conv1", "conv2"]
    assert default_layers(model, ("conv", "pool", "dense")) == find_layers(model)


def test_padding_vectors_and_the_input_stem_are_not_stages():
    import keras

    L = keras.layers
    inputs = keras.Input((32, 32, 3))
    x = L.Rescaling(1 / 255, name="scale")(inputs)  # before the first conv: not a stage
    x = L.ZeroPadding2D(1, name="pad")(x)  # 34 px, padding: never a stage
    x = L.Conv2D(4, 3, strides=2, name="conv")(x)  # 16 px
    gate = L.GlobalAveragePooling2D(keepdims=True, name="squeeze")(x)  # 1x1: a vector
    gate = L.Conv2D(4, 1, activation="sigmoid", name="excite")(gate)
    x = L.Multiply(name="gated")([x, gate])
    x = L.Dropout(0.1, name="drop")(x)  # a pass-through: never a stage
    model = keras.Model(inputs, L.GlobalAveragePooling2D()(x))
    assert stage_layers(model) == ["gated"]


def test_most_active_channels_are_those_with_the_largest_mean_square():
    maps = np.zeros((2, 4, 4, 6), np.float32)
    maps[..., 1] = 3.0
    maps[..., 4] = -2.0  # signed: swinging far counts as active
    maps[..., 5] = 1.0
    np.testing.assert_allclose(channel_energy(maps), [0, 9, 0, 0, 4, 1])
    np.testing.assert_array_equal(most_active(maps, 2), [1, 4])  # index order
    np.testing.assert_array_equal(most_active(maps, 3), [1, 4, 5])
    np.testing.assert_array_equal(most_active(maps, 64), np.arange(6))
    with pytest.raises(ValueError, match="limit"):
        most_active(maps, 0)


def test_footprint_counts_every_layer_output():
    import keras

    model = keras.Sequential(
        [
            keras.Input((10, 10, 1)),
            keras.layers.Conv2D(4, 3, name="conv"),  # 8 x 8 x 4 = 256 values
            keras.layers.Flatten(name="flat"),  # 256 more
            keras.layers.Dense(5, name="dense"),  # 5
        ]
    )
    found = footprint(model)
    assert found.total == 4 * (256 + 256 + 5) and found.largest == 4 * 256
    # an image of another size, given explicitly, to a nested copy of the same layers
    assert footprint(residual_net("nested", 16)).total < footprint(residual_net("nested")).total
    assert batch_for(100, 1000) == 10 and batch_for(10**9, 1000) == 1
    assert found.forward_batch(budget=found.total * 7) == 7
