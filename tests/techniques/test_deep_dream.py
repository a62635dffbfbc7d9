"""deep_dream: gradient ascent on the pixels, checked where the answer is known by hand."""

import keras
import numpy as np
import pytest
from keras import layers

from convwatch.techniques import any_size_extractor, deep_dream
from convwatch.techniques.deep_dream import TRACES
from tests.arrays import numpy

WEIGHTS = np.array([0.5, 1.0], np.float32)  # the "mix" layer's fixed channel weights


@pytest.fixture
def mix():
    """relu(0.5 * channel 0 + 1.0 * channel 1): a 1x1 conv on 2-channel images of any size."""
    model = keras.Sequential(
        [keras.Input((None, None, 2)), layers.Conv2D(1, 1, activation="relu", name="mix")],
        name="mix_model",
    )
    model.get_layer("mix").set_weights([WEIGHTS.reshape(1, 1, 2, 1), np.zeros(1, np.float32)])
    return model


def mean_activation(model, image, layer="mix"):
    return float(np.mean(numpy(any_size_extractor(model, [layer])(image[None]))))


def test_one_step_by_hand(mix):
    # Uniform image a: every map pixel is 1.5 a, the loss is its mean square over the 6x6
    # interior of the 10x10 map (2-pixel border left out), so the gradient is w_c * k inside
    # and 0 on the border; mean |gradient| = k * mean(w) * 36 / 100. Each interior pixel of
    # channel c moves by step * w_c / (mean(w) * 0.36); the border does not move.
    image = np.full((10, 10, 2), 0.4, np.float32)
    dream = deep_dream(mix, image, layers="mix", octaves=1, steps=1, step_size=0.01)
    expected = image.copy()
    expected[2:-2, 2:-2] += 0.01 * WEIGHTS / (WEIGHTS.mean() * 0.36)
    np.testing.assert_allclose(dream, expected, atol=1e-6)


@pytest.mark.parametrize("octaves", [1, 3])
def test_raises_the_layer_activation_and_keeps_shape(mix, octaves):
    image = np.random.default_rng(0).uniform(0.2, 0.6, (21, 17, 2)).astype(np.float32)
    dream, losses = deep_dream(mix, image, octaves=octaves, steps=5, return_losses=True)
    assert dream.shape == image.shape and dream.dtype == np.float32
    assert dream.min() >= 0.0 and dream.max() <= 1.0
    assert mean_activation(mix, dream) > mean_activation(mix, image) * 1.05
    assert losses.shape == (octaves * 5,) and losses.dtype == np.float32
    # Every step raises every pixel it moves, so the loss never falls within an octave.
    assert np.all(np.diff(losses.reshape(octaves, 5), axis=1) > 0)


def test_batch_value_range_and_default_layer(mix):
    images = np.random.default_rng(1).uniform(-0.5, 0.5, (3, 12, 12, 2)).astype(np.float32)
    dream, losses = deep_dream(
        mix, images, octaves=2, steps=4, step_size=0.2, value_range=(-1, 1), return_losses=True
    )
    assert dream.shape == images.shape and losses.shape == (8,)
    assert dream.min() >= -1.0 and dream.max() <= 1.0 and dream.max() == 1.0  # clipped
    # Each image of the batch is dreamed on its own; the losses are the batch means.
    alone = [
        deep_dream(
            mix, image, octaves=2, steps=4, step_size=0.2, value_range=(-1, 1), return_losses=True
        )
        for image in images
    ]
    np.testing.assert_allclose(dream[1], alone[1][0], atol=1e-5)
    np.testing.assert_allclose(losses, np.mean([a[1] for a in alone], axis=0), rtol=1e-5)


def test_fixed_size_model_at_other_sizes_one_graph(tiny_cnn):
    traced = TRACES["octave"]
    image = np.random.default_rng(2).random((30, 25, 1), dtype=np.float32)
    before = mean_activation(tiny_cnn, image, "conv")
    dream = deep_dream(tiny_cnn, image, octaves=3, steps=3)  # last conv: "conv", at 15..30 px
    assert dream.shape == image.shape and dream.min() >= 0.0 and dream.max() <= 1.0
    assert mean_activation(tiny_cnn, dream, "conv") > before
    if keras.backend.backend() == "tensorflow":
        assert TRACES["octave"] == traced + 1  # three sizes, one trace
    elif keras.backend.backend() == "jax":
        assert TRACES["octave"] == traced + 3  # XLA compiles once per size


def test_layer_weights(tiny_cnn):
    image = np.random.default_rng(3).random((16, 16, 1), dtype=np.float32)
    _, one = deep_dream(tiny_cnn, image, ["conv"], octaves=1, steps=1, return_losses=True)
    _, two = deep_dream(
        tiny_cnn,
        image,
        ["conv", "conv"],
        octaves=1,
        steps=1,
        layer_weights=[2.0, 1.0],
        return_losses=True,
    )
    np.testing.assert_allclose(two, 3.0 * one, rtol=1e-5)  # same gradient direction, 3x loss


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"octaves": 0}, "octaves"),
        ({"octaves": 2, "octave_scale": 1.0}, "octave_scale"),
        ({"steps": 0}, "steps"),
        ({"value_range": (1, 0)}, "value_range"),
        ({"layer_weights": [1.0, 2.0]}, "layer_weights"),
        ({"layers": ["nope"]}, "no layer named 'nope'"),
    ],
)
def test_bad_arguments(mix, kwargs, message):
    with pytest.raises(ValueError, match=message):
        deep_dream(mix, np.zeros((8, 8, 2), np.float32), **kwargs)


def test_bad_images(mix, tiny_cnn):
    with pytest.raises(ValueError, match="must be \\(H, W, C\\)"):
        deep_dream(mix, np.zeros((8, 8), np.float32))
    with pytest.raises(ValueError, match="2 channels"):
        deep_dream(mix, np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="octave \\(3x3\\) is too small"):
        deep_dream(tiny_cnn, np.zeros((6, 6, 1), np.float32), layers="pool", octaves=3)
