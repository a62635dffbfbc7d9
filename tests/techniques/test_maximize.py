"""maximize_filters: batched gradient ascent, checked against keras.io's per-filter loop."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from convwatch.techniques import layer_outputs, maximize_filters
from convwatch.techniques.maximize import TRACES, deprocess


def start_noise(n_filters, shape, seed=0):
    """The documented starting images: grey noise 0.5 +- 0.125 from default_rng(seed)."""
    noise = np.random.default_rng(seed).uniform(size=(n_filters, *shape)).astype(np.float32)
    return 0.5 + (noise - 0.5) * 0.25


def objective(model, layer, images, border=2):
    """Mean activation of filter i on image i, as keras.io computes it (border excluded)."""
    act = layer_outputs(model, images, [layer])[layer]
    if act.ndim == 4:
        act = act[:, border:-border, border:-border] if border else act
        return act.mean(axis=(1, 2))[np.arange(len(act)), np.arange(len(act))]
    return act[np.arange(len(act)), np.arange(len(act))]


def keras_io_loop(model, layer, images, steps, learning_rate):
    """keras.io's visualize_filter for each filter in turn (the trusted reference)."""
    extractor = keras.Model(model.inputs, model.get_layer(layer).output)
    out = []
    for f, img in enumerate(images):
        img = tf.constant(img[None])
        for _ in range(steps):
            with tf.GradientTape() as tape:
                tape.watch(img)
                act = extractor([img])
                act = act[:, 2:-2, 2:-2, f] if len(act.shape) == 4 else act[:, f]
                loss = tf.reduce_mean(act)
            img = img + learning_rate * tf.math.l2_normalize(tape.gradient(loss, img))
        out.append(img[0].numpy())
    return np.stack(out)


def test_shape_range_dtype(tiny_cnn):
    pictures = maximize_filters(tiny_cnn, "conv", steps=5)
    assert pictures.shape == (4, 12, 12, 1) and pictures.dtype == np.float32
    assert pictures.min() >= 0.0 and pictures.max() <= 1.0


@pytest.mark.parametrize(("layer", "n_filters"), [("conv", 4), ("hidden", 8)])
def test_equals_keras_io_per_filter_loop(tiny_cnn, layer, n_filters):
    # Same start, same steps: the batched graph (with its fast conv and pool gradients) must
    # give what the per-filter loop of plain autodiff gives.
    start = start_noise(n_filters, (12, 12, 1))
    expected = deprocess(keras_io_loop(tiny_cnn, layer, start, steps=5, learning_rate=1.0))
    got = maximize_filters(tiny_cnn, layer, steps=5, learning_rate=1.0)
    np.testing.assert_allclose(got, expected, atol=2e-4)


@pytest.mark.parametrize("layer", ["conv", "hidden"])
def test_pictures_excite_their_own_filter(tiny_cnn, layer):
    pictures = maximize_filters(tiny_cnn, layer, steps=20)
    start = start_noise(len(pictures), (12, 12, 1))
    before, after = objective(tiny_cnn, layer, start), objective(tiny_cnn, layer, pictures)
    alive = before > 0  # a ReLU unit dead on the noise has no gradient to climb
    assert alive.any()
    assert np.all(after[alive] > before[alive])


def test_filter_subset_matches_full_run(tiny_cnn):
    full = maximize_filters(tiny_cnn, "conv", steps=5)
    subset = maximize_filters(tiny_cnn, "conv", filters=[1, 3], steps=5)
    assert subset.shape == (2, 12, 12, 1)
    # Filter f starts from the same noise whatever else is asked for.
    np.testing.assert_allclose(subset, full[[1, 3]], atol=1e-6)


def test_no_retrace_on_repeated_calls(tiny_cnn):
    maximize_filters(tiny_cnn, "conv", steps=3)
    traced = TRACES["conv"]
    maximize_filters(tiny_cnn, "conv", steps=4, learning_rate=2.0, seed=1)
    maximize_filters(tiny_cnn, "conv", filters=[3, 2, 1, 0], steps=3)
    assert TRACES["conv"] == traced  # new steps, rate, seed and filters reuse the graph
    maximize_filters(tiny_cnn, "conv", filters=[0, 2], steps=3)
    maximize_filters(tiny_cnn, "conv", filters=[1, 3], steps=5)
    assert TRACES["conv"] == traced + 1  # a new number of filters traces once, then reuses


def test_deterministic_for_a_seed(tiny_cnn):
    a = maximize_filters(tiny_cnn, "hidden", steps=3, seed=7)
    b = maximize_filters(tiny_cnn, "hidden", steps=3, seed=7)
    c = maximize_filters(tiny_cnn, "hidden", steps=3, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_known_kernel_raises_its_channel():
    # One 1x1 filter that reads channel 0 only: the objective is the mean of channel 0 over
    # the central 4x4 of an 8x8 map, so the gradient is 1/16 there and 0 elsewhere; after L2
    # normalisation each step adds learning_rate / 4 to those 16 pixels and nothing else.
    model = keras.Sequential([keras.Input((8, 8, 2)), layers.Conv2D(1, 1, name="probe")])
    model.get_layer("probe").set_weights([np.array([1.0, 0.0]).reshape(1, 1, 2, 1), np.zeros(1)])
    raw = start_noise(1, (8, 8, 2))
    raw[0, 2:6, 2:6, 0] += 3 * 0.5 / 4  # 3 steps of learning rate 0.5
    got = maximize_filters(model, "probe", steps=3, learning_rate=0.5)
    np.testing.assert_allclose(got, deprocess(raw), atol=1e-5)
    assert got[0, 2:6, 2:6, 0].min() > got[0, :, :, 1].max()  # the filter's pixels are brightest


def test_dense_layer_and_layer_in_nested_model(nested_functional):
    model, _ = nested_functional
    assert maximize_filters(model, "predictions", steps=3).shape == (3, 12, 12, 1)
    pictures = maximize_filters(model, "conv", steps=10)  # "conv" lives in the nested block
    before = objective(model, "conv", start_noise(4, (12, 12, 1)))
    after = objective(model, "conv", pictures)
    assert np.all(after[before > 0] > before[before > 0])


def test_unbuilt_model_needs_image_shape(unbuilt_sequential):
    with pytest.raises(ValueError, match="image_shape"):
        maximize_filters(unbuilt_sequential, "conv")
    pictures = maximize_filters(unbuilt_sequential, "conv", steps=2, image_shape=(9, 9, 1))
    assert pictures.shape == (2, 9, 9, 1)


def test_bad_filters_and_layer(tiny_cnn):
    with pytest.raises(ValueError, match="has 4 filters"):
        maximize_filters(tiny_cnn, "conv", filters=[4])
    with pytest.raises(ValueError, match="Valid layer names"):
        maximize_filters(tiny_cnn, "nope")
