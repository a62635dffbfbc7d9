"""style_transfer and gram_matrix, on a network whose features are the pixels themselves."""

import keras
import numpy as np
import pytest
from keras import layers

from convwatch.techniques import gram_matrix, style_transfer
from tests.arrays import numpy


@pytest.fixture
def pixels():
    """A 1x1 conv with the identity kernel: its feature maps are the RGB pixels."""
    model = keras.Sequential(
        [keras.Input((None, None, 3)), layers.Conv2D(3, 1, use_bias=False, name="pixels")],
        name="identity",
    )
    model.get_layer("pixels").set_weights([np.eye(3, dtype=np.float32).reshape(1, 1, 3, 3)])
    return model


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    content = rng.uniform(0.1, 0.9, (8, 8, 3)).astype(np.float32)
    # A style of another size, with correlated channels (so its Gram matrix has structure).
    base = rng.uniform(0.0, 1.0, (6, 10, 1))
    style = np.concatenate([base, 0.5 * base + 0.2, 1.0 - base], axis=-1).astype(np.float32)
    return content, style


def test_gram_matrix_by_hand():
    # Two positions, features (1, 2) and (3, 4): ((1,2)(1,2)^T + (3,4)(3,4)^T) / 2.
    features = np.array([[[[1.0, 2.0], [3.0, 4.0]]]], np.float32)  # (1, 1, 2, 2)
    expected = np.array([[[5.0, 7.0], [7.0, 10.0]]], np.float32)
    np.testing.assert_allclose(gram_matrix(features), expected)
    got = gram_matrix(keras.ops.convert_to_tensor(features))
    assert keras.ops.is_tensor(got)
    np.testing.assert_allclose(numpy(got), expected)
    with pytest.raises(ValueError, match="\\(N, H, W, C\\)"):
        gram_matrix(np.zeros((2, 2, 2)))


def test_gram_matrix_does_not_depend_on_size():
    tile = np.random.default_rng(1).random((1, 3, 4, 5), dtype=np.float32)
    np.testing.assert_allclose(gram_matrix(np.tile(tile, (1, 3, 2, 1))), gram_matrix(tile), 1e-5)


def test_content_only_from_noise_converges_to_content(pixels, pair):
    content, style = pair
    result = style_transfer(
        pixels, content, style, "pixels", ["pixels"], steps=300, learning_rate=0.02,
        style_weight=0.0, tv_weight=0.0, init="noise",
    )  # fmt: skip
    assert result.image.shape == content.shape and result.image.dtype == np.float32
    assert np.abs(result.image - content).max() < 1e-3  # measured: ~2e-7
    losses = result.losses
    assert set(losses) == {"total", "content", "style"}
    assert all(v.shape == (300,) and v.dtype == np.float32 for v in losses.values())
    assert losses["content"][-1] < losses["content"][0] / 100
    np.testing.assert_allclose(losses["total"], losses["content"], rtol=1e-6)


def test_style_only_matches_the_style_gram(pixels, pair):
    content, style = pair
    result = style_transfer(
        pixels, content, style, "pixels", ["pixels"], steps=300, content_weight=0.0,
        tv_weight=0.0, pad=0,  # the Gram matrices of the pictures themselves, no mirrored border
    )  # fmt: skip
    target = gram_matrix(style[None])
    before = np.linalg.norm(gram_matrix(content[None]) - target) / np.linalg.norm(target)
    after = np.linalg.norm(gram_matrix(result.image[None]) - target) / np.linalg.norm(target)
    assert before > 0.1 and after < 0.01  # measured: 0.32 -> 0.0013
    assert result.losses["style"][-1] < result.losses["style"][0] / 50


def test_clipping_progress_and_chunks(pixels, pair):
    content, style = pair
    calls = []
    result = style_transfer(
        pixels, content, style * 0.5, "pixels", ["pixels"], steps=12, chunk=5,
        learning_rate=0.3, value_range=(0.0, 0.7), progress=lambda *a: calls.append(a),
    )  # fmt: skip
    assert result.image.min() >= 0.0 and result.image.max() <= 0.7
    assert [c[:2] for c in calls] == [(5, 12), (10, 12), (12, 12)]
    assert calls[-1][2] == pytest.approx(float(result.losses["total"][-1]))
    # Chunks change nothing: the Adam state carries over from one compiled call to the next.
    whole = style_transfer(
        pixels, content, style * 0.5, "pixels", ["pixels"], steps=12, chunk=50,
        learning_rate=0.3, value_range=(0.0, 0.7),
    )  # fmt: skip
    np.testing.assert_allclose(result.image, whole.image, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": 0}, "steps"),
        ({"chunk": 0}, "chunk"),
        ({"init": "zeros"}, "init"),
        ({"style_weight": -1.0}, "Weights must be >= 0"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"value_range": (1.0, 1.0)}, "value_range"),
        ({"style_layers": []}, "style_layers"),
        ({"content_layer": "nope"}, "no layer named 'nope'"),
        ({"style": np.zeros((4, 4, 1), np.float32)}, "channels"),
        ({"content": np.zeros((1, 4, 4, 3), np.float32)}, "one \\(H, W, C\\) image"),
    ],
)
def test_bad_arguments(pixels, pair, kwargs, message):
    content, style = pair
    args = {"content": content, "style": style, "content_layer": "pixels"}
    args |= {"style_layers": ["pixels"], **kwargs}
    with pytest.raises(ValueError, match=message):
        style_transfer(pixels, **args)


@pytest.mark.measure
def test_a_mirrored_border_keeps_the_edges_from_changing_more_than_the_middle():
    # Without it, the random net's zero padding makes the edge pixels change most (a seam).
    from convwatch.data import photo_image
    from convwatch.techniques.backbones import (
        RANDOM_CONTENT_LAYER,
        RANDOM_STYLE_LAYERS,
        random_multiscale_net,
    )

    content, style = photo_image("china", size=72), photo_image("flower", size=72)
    net = random_multiscale_net()
    ratios = {}
    for pad in (0, 8):
        image = style_transfer(
            net, content, style, RANDOM_CONTENT_LAYER, RANDOM_STYLE_LAYERS, steps=100, pad=pad
        ).image
        change = np.abs(image - content).mean(-1)
        frame = np.concatenate([change[:2], change[-2:], change[:, :2].T, change[:, -2:].T], 1)
        ratios[pad] = frame.mean() / change[8:-8, 8:-8].mean()
    assert ratios[0] > 1.1 and ratios[8] < 1.0  # measured: 1.63 and 0.98, on every backend
    with pytest.raises(ValueError, match="`pad` must be an integer >= 0"):
        style_transfer(net, content, style, RANDOM_CONTENT_LAYER, RANDOM_STYLE_LAYERS, pad=-1)
