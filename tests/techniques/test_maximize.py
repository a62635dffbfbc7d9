"""maximize_filters: batched, regularised ascent on the pre-activation, against a per-filter loop
of plain TensorFlow ops and against hand-set kernels whose best input is known."""

import keras
import numpy as np
import pytest
import scipy.ndimage
import tensorflow as tf
from keras import layers

from convwatch.techniques import (
    high_frequency_share,
    layer_outputs,
    maximize_filters,
    receptive_field,
    top_exemplars,
)
from convwatch.techniques.maximize import LEVELS, TRACES
from tests.arrays import numpy


def start_noise(n_filters, shape, mask, seed=0):
    """The documented start: grey + uniform noise (+-0.125) from default_rng(seed), masked."""
    noise = np.random.default_rng(seed).uniform(size=(n_filters, *shape)).astype(np.float32)
    return (noise - 0.5) * 0.25 * mask


def tiny_pre_activation(model, layer, x):
    """The tiny CNN's pre-activations written out by hand (not through any convwatch code)."""
    kernel, bias = model.get_layer("conv").get_weights()
    conv = tf.nn.conv2d(x, kernel, 1, "VALID") + bias
    if layer == "conv":
        return conv
    pooled = tf.nn.max_pool2d(tf.nn.relu(conv), 2, 2, "VALID")
    weights, bias = model.get_layer("hidden").get_weights()
    return tf.reshape(pooled, [len(x), -1]) @ weights + bias


def reference_ascent(model, layer, start, mask, steps, rate, radius, objective, sigma=0.0):
    """The documented step, one filter at a time: d <- (1 - rate) d + rate R g / |g|, g the
    (blurred, masked) gradient at clip(0.5 + d); blur with scipy, zero padding."""
    out = []
    for f, offset in enumerate(start):
        offset = offset.astype(np.float64)
        for _ in range(steps):
            x = tf.constant(np.clip(0.5 + offset, 0, 1)[None], tf.float32)
            with tf.GradientTape() as tape:
                tape.watch(x)
                pre = tiny_pre_activation(model, layer, x)
                if objective == "neuron":
                    value = pre[0, 4, 4, f]
                elif objective == "channel":
                    value = tf.reduce_mean(pre[0, 2:-2, 2:-2, f])
                else:
                    value = pre[0, f]
            grad = tape.gradient(value, x)[0].numpy().astype(np.float64)
            if sigma:
                radius_px = int(np.ceil(2 * sigma))
                taps = np.exp(-(np.arange(-radius_px, radius_px + 1) ** 2) / (2 * sigma**2))
                taps /= taps.sum()
                for axis in (0, 1):
                    grad = scipy.ndimage.convolve1d(grad, taps, axis=axis, mode="constant")
            grad = grad * mask[0]
            grad = grad / max(np.linalg.norm(grad), 1e-6)
            offset = (1 - rate) * offset + rate * radius * grad
        out.append(np.clip(0.5 + offset, 0, 1))
    return np.stack(out).astype(np.float32)


@pytest.mark.parametrize(
    ("layer", "objective", "n_filters", "window", "sigma"),
    [
        ("conv", "neuron", 4, (4, 4, 3, 3), 0.0),  # 3x3 field: no jitter, no blur
        ("conv", "channel", 4, None, 0.0),
        ("hidden", None, 8, None, 12 / 20),  # a Dense unit sees all 12x12: blur sigma 0.6
    ],
)
def test_equals_a_per_filter_loop_of_plain_ops(
    tiny_cnn, layer, objective, n_filters, window, sigma
):
    # Same start, same steps: the batched graph (with its fast conv and pool gradients, the
    # pre-activation wrapper and the in-graph blur) gives what the documented step gives.
    mask = np.zeros((1, 12, 12, 1), np.float32)
    if window is None:
        mask[:] = 1
    else:
        mask[:, 4:7, 4:7] = 1
    start = start_noise(n_filters, (12, 12, 1), mask)
    radius = 1.2 * np.sqrt(mask.sum())
    kind = objective or ("unit" if layer == "hidden" else "neuron")
    expected = reference_ascent(tiny_cnn, layer, start, mask, 6, 0.1, radius, kind, sigma)
    got = maximize_filters(tiny_cnn, layer, objective=objective, steps=6)
    np.testing.assert_allclose(got, expected, atol=2e-5)


def stroke_kernels() -> np.ndarray:
    """Four 5x5 strokes through the centre (vertical, horizontal, both diagonals), each a
    Gaussian profile across the stroke, zero-mean: (5, 5, 1, 4)."""
    rows, cols = np.mgrid[-2:3, -2:3].astype(np.float64)
    across = [cols, rows, (rows - cols) / np.sqrt(2), (rows + cols) / np.sqrt(2)]
    kernels = np.stack([np.exp(-(a**2) / 1.2) for a in across], axis=-1)
    return (kernels - kernels.mean(axis=(0, 1))).reshape(5, 5, 1, 4).astype(np.float32)


@pytest.fixture
def stroke_net():
    """A first conv with the stroke kernels and bias -0.5: every unit is off on grey."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((15, 15, 1)),
            layers.Conv2D(4, 5, activation="relu", name="strokes"),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    model.get_layer("strokes").set_weights([stroke_kernels(), np.full(4, -0.5, np.float32)])
    return model


def test_hand_set_strokes_give_their_kernels_and_grey_elsewhere(stroke_net):
    grey = np.full((1, 15, 15, 1), 0.5, np.float32)
    assert np.all(numpy(stroke_net.get_layer("strokes")(grey)) == 0)  # all off on grey
    pictures = maximize_filters(stroke_net, "strokes")
    top, left, height, width = receptive_field(stroke_net, "strokes")
    assert (top, left, height, width) == (5, 5, 5, 5)  # the centre of the 11x11 map
    inside = pictures[:, top : top + height, left : left + width, 0]
    kernels = stroke_kernels()[:, :, 0, :]
    for f in range(4):
        # A climb on the ReLU output would never leave grey; on the pre-activation the
        # picture becomes the kernel itself (clipped to [0, 1]).
        assert np.corrcoef(inside[f].ravel(), kernels[..., f].ravel())[0, 1] >= 0.8
    outside = pictures.copy()
    outside[:, top : top + height, left : left + width] = 0.5
    assert np.all(outside == 0.5)  # exactly grey outside the receptive field: no start noise


def test_a_target_gives_the_faintest_picture_that_reaches_it(stroke_net):
    strongest = maximize_filters(stroke_net, "strokes", contrast=4.0)
    layer = stroke_net.get_layer("strokes")
    peak = numpy(layer(strongest))[np.arange(4), 5, 5, np.arange(4)]
    target = 0.3 * peak  # well below what the strongest picture gets
    pictures = maximize_filters(stroke_net, "strokes", target=target)
    got = numpy(layer(pictures))[np.arange(4), 5, 5, np.arange(4)]
    assert np.all(got >= target * (1 - 1e-5))
    assert pictures.min() > 0 and pictures.max() < 1  # unclipped: levels are plain scalings
    # The next fainter version of the same result (one level down) falls short.
    scale = (0.1 / 4.0) ** (1 / (LEVELS - 1))
    fainter = np.clip(0.5 + (pictures - 0.5) * scale, 0, 1)
    assert np.all(numpy(layer(fainter))[np.arange(4), 5, 5, np.arange(4)] < target)
    assert np.abs(pictures - 0.5).mean() < np.abs(strongest - 0.5).mean()


def test_deeper_unit_is_grey_outside_its_receptive_field():
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((20, 20, 1)),
            layers.Conv2D(3, 3, activation="relu", name="c1"),
            layers.MaxPooling2D(2),
            layers.Conv2D(4, 3, activation="relu", name="c2"),
        ]
    )
    pictures = maximize_filters(model, "c2", jitter=2)  # jitter shifts; the mask holds
    top, left, height, width = receptive_field(model, "c2")
    assert (top, left, height, width) == (6, 6, 8, 8)
    outside = pictures.copy()
    outside[:, top : top + height, left : left + width] = 0.5
    assert np.all(outside == 0.5)
    assert np.all(np.abs(pictures[:, top : top + height, left : left + width] - 0.5).max((1, 2)))


def test_channel_objective_uses_the_whole_picture_and_raises_the_mean(tiny_cnn):
    pictures = maximize_filters(tiny_cnn, "conv", objective="channel", steps=20)
    assert np.abs(pictures[:, :2] - 0.5).max() > 0  # not masked to one unit's field
    pre = tiny_pre_activation(tiny_cnn, "conv", tf.constant(pictures)).numpy()
    grey = tiny_pre_activation(tiny_cnn, "conv", tf.fill((1, 12, 12, 1), 0.5)).numpy()
    mean = pre[:, 2:-2, 2:-2].mean(axis=(1, 2))[np.arange(4), np.arange(4)]
    assert np.all(mean > grey[0, 2:-2, 2:-2].mean(axis=(0, 1)))


def test_shape_range_dtype(tiny_cnn):
    pictures = maximize_filters(tiny_cnn, "conv", steps=5)
    assert pictures.shape == (4, 12, 12, 1) and pictures.dtype == np.float32
    assert pictures.min() >= 0.0 and pictures.max() <= 1.0


def test_filter_subset_matches_full_run(tiny_cnn):
    full = maximize_filters(tiny_cnn, "conv", steps=5)
    subset = maximize_filters(tiny_cnn, "conv", filters=[1, 3], steps=5)
    assert subset.shape == (2, 12, 12, 1)
    # Filter f starts from the same noise whatever else is asked for.
    np.testing.assert_allclose(subset, full[[1, 3]], atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() == "torch", reason="PyTorch runs eagerly: no traces")
def test_no_retrace_on_repeated_calls(tiny_cnn):
    maximize_filters(tiny_cnn, "conv", steps=3)
    traced = TRACES["conv"]
    maximize_filters(tiny_cnn, "conv", steps=4, learning_rate=0.2, contrast=0.5, seed=1)
    maximize_filters(tiny_cnn, "conv", filters=[3, 2, 1, 0], steps=3, jitter=1)
    assert TRACES["conv"] == traced  # new steps, rate, contrast, seed, jitter reuse the graph
    maximize_filters(tiny_cnn, "conv", filters=[0, 2], steps=3)
    maximize_filters(tiny_cnn, "conv", filters=[1, 3], steps=5)
    assert TRACES["conv"] == traced + 1  # a new number of filters traces once, then reuses


def test_deterministic_for_a_seed(tiny_cnn):
    a = maximize_filters(tiny_cnn, "hidden", steps=3, seed=7)
    b = maximize_filters(tiny_cnn, "hidden", steps=3, seed=7)
    c = maximize_filters(tiny_cnn, "hidden", steps=3, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_dense_layer_and_layer_in_nested_model(nested_functional):
    model, block = nested_functional
    assert maximize_filters(model, "predictions", steps=3).shape == (3, 12, 12, 1)
    pictures = maximize_filters(model, "conv", steps=10)  # "conv" lives in the nested block
    conv = block.get_layer("conv")
    kernel, bias = conv.get_weights()
    pre = tf.nn.conv2d(pictures, kernel, 1, "VALID").numpy() + bias
    grey = 0.5 * kernel.sum(axis=(0, 1, 2)) + bias
    assert np.all(pre[np.arange(4), 4, 4, np.arange(4)] > grey)  # each climbed its unit


def test_unbuilt_model_needs_image_shape(unbuilt_sequential):
    with pytest.raises(ValueError, match="image_shape"):
        maximize_filters(unbuilt_sequential, "conv")
    pictures = maximize_filters(unbuilt_sequential, "conv", steps=2, image_shape=(9, 9, 1))
    assert pictures.shape == (2, 9, 9, 1)


def test_bad_arguments(tiny_cnn):
    with pytest.raises(ValueError, match="has 4 filters"):
        maximize_filters(tiny_cnn, "conv", filters=[4])
    with pytest.raises(ValueError, match="Valid layer names"):
        maximize_filters(tiny_cnn, "nope")
    with pytest.raises(ValueError, match="objective"):
        maximize_filters(tiny_cnn, "conv", objective="mean")
    with pytest.raises(ValueError, match="learning_rate"):
        maximize_filters(tiny_cnn, "conv", learning_rate=1.5)
    with pytest.raises(ValueError, match="target"):
        maximize_filters(tiny_cnn, "conv", target=[1.0, 2.0])  # 4 filters


# ------------------------------------------------------------- a small trained network


@pytest.fixture(scope="module")
def trained():
    from tests.techniques.digits_net import trained_digits_net

    return trained_digits_net()


def atlas_pictures(model, probe, layer):
    """As FilterMaximization draws them: exemplars first, then the faintest pictures that
    excite each unit as much as its best exemplar; and the centre unit's value on them."""
    exemplars = top_exemplars(model, layer, probe)
    pictures = maximize_filters(model, layer, target=exemplars.activation[:, 0])
    return exemplars, pictures, centre_values(model, layer, pictures)


def centre_values(model, layer, pictures):
    """Filter i's activation at the centre of its map, on picture i (brute force)."""
    maps = layer_outputs(model, pictures, [layer])[layer]
    row, col = (maps.shape[1] - 1) // 2, (maps.shape[2] - 1) // 2
    return maps[np.arange(len(pictures)), row, col, np.arange(len(pictures))]


@pytest.mark.measure
def test_trained_first_layer_pictures_show_their_own_kernels(trained):
    model, probe = trained
    exemplars, pictures, _ = atlas_pictures(model, probe, "conv1")
    top, left, height, width = receptive_field(model, "conv1")
    kernels = model.get_layer("conv1").get_weights()[0][:, :, 0, :]
    live = np.flatnonzero(~exemplars.dead)
    assert len(live) == 29  # all but the one switched off
    for f in live:
        inside = pictures[f, top : top + height, left : left + width, 0]
        # Pearson r with the filter's own kernel (measured: min 0.87, median 0.98)
        assert np.corrcoef(inside.ravel(), kernels[..., f].ravel())[0, 1] >= 0.8, f


@pytest.mark.measure
def test_trained_second_layer_pictures_are_smooth(trained):
    model, probe = trained
    exemplars, pictures, _ = atlas_pictures(model, probe, "conv2")
    top, left, height, width = receptive_field(model, "conv2")
    inside = pictures[:, top : top + height, left : left + width]
    share = high_frequency_share(inside)[~exemplars.dead]
    assert len(share) == 14
    assert share.max() <= 0.5  # white noise: ~0.8 (measured here: max 0.27)


@pytest.mark.measure
@pytest.mark.parametrize("layer", ["conv1", "conv2"])
def test_trained_pictures_excite_their_unit_as_much_as_the_best_exemplar(trained, layer):
    model, probe = trained
    exemplars, pictures, values = atlas_pictures(model, probe, layer)
    live = ~exemplars.dead
    best = exemplars.activation[:, 0]
    # The faintest picture that reaches its target does (float error between two extractors).
    assert np.all(values[live] >= best[live] * (1 - 1e-5))
    # And without a target, at full contrast, the ascent alone beats the data (measured: by
    # at least 4% for conv1, 11% for conv2): the target is reached, not assumed.
    strongest = centre_values(model, layer, maximize_filters(model, layer, contrast=4.0))
    assert np.all(strongest[live] >= best[live])


def test_a_network_on_0_255_pixels_sees_the_pictures_stretched_to_its_range():
    keras.utils.set_random_seed(3)
    conv = keras.layers.Conv2D(3, 3, name="conv")
    plain = keras.Sequential([keras.Input((9, 9, 3)), conv])
    # the same layer behind a rescaling from 0-255, as keras.applications networks take pixels
    scaled = keras.Sequential([keras.Input((9, 9, 3)), keras.layers.Rescaling(1 / 255), conv])
    expected = maximize_filters(plain, "conv", steps=5)
    found = maximize_filters(scaled, "conv", steps=5, value_range=(0, 255))
    np.testing.assert_allclose(found, expected, atol=1e-4)
    with pytest.raises(ValueError, match="value_range"):
        maximize_filters(plain, "conv", value_range=(1, 0))
