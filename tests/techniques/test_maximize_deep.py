"""maximize_filters on deep units: the decorrelated parameterisation, the robustness
transforms, the effective receptive field, chunks of filters, and layers other than Conv2D."""

import keras
import numpy as np
import pytest
from keras import layers

from convwatch.techniques import fourier, maximize_filters, receptive_field, regularize
from convwatch.techniques.maximize import TRACES, _prepare
from convwatch.techniques.pre_activation import PassThrough, pre_activation_version
from convwatch.techniques.transforms import affine
from tests.arrays import numpy

SIZE = 64


def patterns(count: int = 3) -> np.ndarray:
    """`(5, 5, 3, count)` saturated colour patterns (+-1 per value, zero-mean), seeded."""
    signs = np.random.default_rng(5).choice([-1.0, 1.0], size=(5, 5, 3, count))
    return (signs - signs.mean(axis=(0, 1, 2))).astype(np.float32)


def delta(kernel: int, channels: int) -> np.ndarray:
    """A kernel that passes each channel through: a centred delta."""
    weights = np.zeros((kernel, kernel, channels, channels), np.float32)
    weights[kernel // 2, kernel // 2] = np.eye(channels)
    return weights


@pytest.fixture
def deep_detector():
    """3 filters, each a 5x5 colour pattern (`pattern`), passed through ten layers to `deep`:
    three dilated 3x3 deltas (which widen the theoretical field to 53 px, past DEEP_FIELD,
    while the unit still depends on its 5x5 patch alone), a BatchNormalization at identity, a
    linear Activation, a 1x1 identity with offset +100, a ReLU, -100, an Identity, and a 1x1
    identity conv with a ReLU and bias -1 (off on grey)."""
    keras.utils.set_random_seed(0)
    n = 3
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Conv2D(n, 5, padding="same", name="pattern")(inputs)
    for i in range(3):
        x = layers.Conv2D(n, 3, dilation_rate=8, padding="same", name=f"wide{i}")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Activation("linear", name="linear")(x)
    x = layers.Conv2D(n, 1, name="up")(x)
    x = layers.ReLU(name="relu")(x)
    x = layers.Conv2D(n, 1, name="down")(x)
    x = layers.Identity(name="same")(x)
    x = layers.Conv2D(n, 1, activation="relu", name="deep")(x)
    outputs = layers.Dense(2)(layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    model.get_layer("pattern").set_weights([patterns(n), np.zeros(n, np.float32)])
    for i in range(3):
        model.get_layer(f"wide{i}").set_weights([delta(3, n), np.zeros(n, np.float32)])
    model.get_layer("up").set_weights([delta(1, n), np.full(n, 100.0, np.float32)])
    model.get_layer("down").set_weights([delta(1, n), np.full(n, -100.0, np.float32)])
    model.get_layer("deep").set_weights([delta(1, n), np.full(n, -1.0, np.float32)])
    bn = model.get_layer("bn")
    bn.set_weights([np.ones(n), np.zeros(n), np.zeros(n), np.ones(n) - bn.epsilon])
    return model


def test_inverse_fourier_transform_matches_numpy():
    rng = np.random.default_rng(0)
    for shape in [(6, 7, 1), (8, 10, 3)]:
        spec = fourier.spectrum(shape)
        params = rng.normal(size=(2, *spec.param_shape)).astype(np.float32)
        got = numpy(spec.linear(params))
        complex_spec = (params[:, 0] + 1j * params[:, 1]) * spec.scale  # (N, C, H, Wf)
        want = np.fft.irfft2(complex_spec, s=shape[:2]).transpose(0, 2, 3, 1) / 4
        want = want @ spec.colour.T.astype(np.float64)
        np.testing.assert_allclose(got, want, atol=1e-4 * np.abs(want).max())
    zero = np.zeros((1, *fourier.spectrum((8, 8, 3)).param_shape), np.float32)
    np.testing.assert_allclose(numpy(fourier.spectrum((8, 8, 3)).pictures(zero)), 0.5)


def test_affine_shift_is_exact_and_fills_grey():
    rng = np.random.default_rng(1)
    images = rng.random((2, 9, 11, 3)).astype(np.float32)
    same = numpy(affine(images, (0, 0), 1.0, 0.0, (4.0, 5.0)))
    np.testing.assert_allclose(same, images, atol=1e-6)
    moved = numpy(affine(images, (2, -1), 1.0, 0.0, (4.0, 5.0)))
    np.testing.assert_allclose(moved[:, 2:, :-1], images[:, :-2, 1:], atol=1e-6)
    np.testing.assert_allclose(moved[:, :2], 0.5)
    np.testing.assert_allclose(moved[:, :, -1], 0.5)
    turned = numpy(affine(images, (0, 0), 1.1, 0.08, (4.0, 5.0)))
    assert np.abs(turned - images).max() > 0.05  # scaled and rotated: something moved


def test_deep_detector_picture_shows_its_pattern(deep_detector):
    top, left, height, width = receptive_field(deep_detector, "deep")
    assert max(height, width) > regularize.DEEP_FIELD  # the decorrelated path
    climb = _prepare(deep_detector, "deep", None, None, None, None, None, (0, 1))
    assert climb.deep
    row, col = (SIZE - 1) // 2 - 2, (SIZE - 1) // 2 - 2  # the centre unit's 5x5 patch
    optimised = np.argwhere(climb.mask[0, :, :, 0])
    # The effective field is the 5x5 patch: nothing else reaches the unit.
    assert optimised.min(0).tolist() == [row, col] and optimised.max(0).tolist() == [row + 4] * 2
    pictures = maximize_filters(deep_detector, "deep")
    assert pictures.shape == (3, SIZE, SIZE, 3) and pictures.dtype == np.float32
    patch = pictures[:, row : row + 5, col : col + 5]
    for f in range(3):
        r = np.corrcoef(patch[f].ravel(), patterns()[..., f].ravel())[0, 1]
        assert r >= 0.8, (f, r)  # measured: 0.92-0.97
    outside = pictures.copy()
    outside[:, row : row + 5, col : col + 5] = 0.5
    assert np.all(outside == 0.5)  # grey outside the effective field


def test_chunks_give_the_same_pictures_and_trace_once_per_chunk_size(deep_detector):
    traces = []  # PyTorch runs eagerly: its count grows with every call, so it is not checked
    traces.append(TRACES["deep"])
    chunked = maximize_filters(deep_detector, "deep", steps=8, batch_size=2)
    traces.append(TRACES["deep"])
    again = maximize_filters(deep_detector, "deep", filters=[2, 0, 1], steps=8, batch_size=2)
    traces.append(TRACES["deep"])
    whole = maximize_filters(deep_detector, "deep", steps=8)
    traces.append(TRACES["deep"])
    if keras.backend.backend() != "torch":
        # chunks [0, 1] and [2, 2 (padding)]: one trace for both calls; all three at once: one
        assert np.diff(traces).tolist() == [1, 0, 1]
    np.testing.assert_allclose(chunked, whole, atol=1e-4)
    np.testing.assert_allclose(again, whole[[2, 0, 1]], atol=1e-4)


def test_chunks_on_the_pixel_path_equal_one_call():
    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [keras.Input((12, 12, 1)), layers.Conv2D(5, 3, activation="relu", name="conv")]
    )
    whole = maximize_filters(model, "conv", steps=5)
    chunked = maximize_filters(model, "conv", steps=5, batch_size=2)
    np.testing.assert_allclose(chunked, whole, atol=1e-5)
    with pytest.raises(ValueError, match="batch_size"):
        maximize_filters(model, "conv", batch_size=0)


def _centre_units(model, name, pictures):
    """Each picture's own channel (i for picture i) at the centre of `name`'s output."""
    maps = numpy(keras.Model(model.input, model.get_layer(name).output)(pictures))
    row, col = (maps.shape[1] - 1) // 2, (maps.shape[2] - 1) // 2
    return maps[np.arange(len(pictures)), row, col, np.arange(len(pictures))]


@pytest.fixture
def block_net():
    """A small residual block: conv, a (dilated, so deep) depthwise conv, a 1x1 conv, Add,
    BatchNormalization, ReLU."""
    keras.utils.set_random_seed(4)
    inputs = keras.Input((48, 48, 3))
    x = layers.Conv2D(4, 3, padding="same", name="stem")(inputs)
    y = layers.DepthwiseConv2D(3, dilation_rate=20, padding="same", name="depthwise")(x)
    y = layers.Conv2D(4, 1, name="project")(y)
    x = layers.Add(name="add")([x, y])
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="out_relu")(x)
    return keras.Model(inputs, x)


@pytest.mark.parametrize("name", ["depthwise", "add", "out_relu"])
def test_depthwise_add_and_relu_layers_climb(block_net, name):
    assert _prepare(block_net, name, None, None, None, None, None, (0, 1)).deep  # a 43 px field
    pictures = maximize_filters(block_net, name, steps=10)
    assert pictures.shape == (4, 48, 48, 3)
    grey = np.full_like(pictures, 0.5)
    if name == "out_relu":  # climbed on its input (the ReLU's pre-activation)
        name = "bn"
    assert np.all(_centre_units(block_net, name, pictures) > _centre_units(block_net, name, grey))


def test_activation_layers_are_climbed_on_their_input():
    x = keras.ops.ones((1, 4, 4, 2))
    for layer in [layers.ReLU(), layers.Activation("relu"), layers.LeakyReLU()]:
        assert isinstance(pre_activation_version(layer, x), PassThrough)
    assert pre_activation_version(layers.Activation("linear"), x) is None
    assert pre_activation_version(layers.BatchNormalization(), x) is None


def test_a_target_gives_a_fainter_deep_picture_that_reaches_it(deep_detector):
    strongest = maximize_filters(deep_detector, "deep", steps=10)
    peak = _centre_units(deep_detector, "up", strongest)  # the pre-activation, + 100
    target = 0.3 * (peak - 100.0)  # below what the strongest picture gets
    pictures = maximize_filters(deep_detector, "deep", steps=10, target=target)
    got = _centre_units(deep_detector, "up", pictures) - 100.0
    assert np.all(got >= target - 1e-3)
    assert np.abs(pictures - 0.5).mean() < np.abs(strongest - 0.5).mean()
