"""any_size_extractor: the model's own layers, replayed on images of any size."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from convwatch.techniques import any_size_extractor, layer_outputs
from tests.arrays import assert_allclose


def conv_relu(layer, images):
    """A Conv2D layer's output computed by hand from its weights (the trusted reference)."""
    kernel, bias = (w.numpy() for w in layer.weights)
    out = tf.nn.conv2d(images, kernel, 1, layer.padding.upper()).numpy() + bias
    return np.maximum(out, 0.0)


def test_fixed_size_sequential_same_outputs_at_its_size(tiny_cnn, images):
    x, _ = images
    extractor = any_size_extractor(tiny_cnn, ["conv", "pool"])
    assert tuple(extractor.inputs[0].shape) == (None, None, None, 1)
    got = extractor(x)
    expected = layer_outputs(tiny_cnn, x, ["conv", "pool"])
    assert_allclose(got[0], expected["conv"], atol=1e-6)
    assert_allclose(got[1], expected["pool"], atol=1e-6)


def test_fixed_size_sequential_works_at_another_size(tiny_cnn):
    x = np.random.default_rng(1).random((2, 20, 17, 1), dtype=np.float32)
    conv, pool = any_size_extractor(tiny_cnn, ["conv", "pool"])(x)
    # 3x3 "valid" conv: 18x15; 2x2 pooling: 9x7.
    assert conv.shape == (2, 18, 15, 4) and pool.shape == (2, 9, 7, 4)
    assert_allclose(conv, conv_relu(tiny_cnn.get_layer("conv"), x), atol=1e-5)


def test_shares_the_layers_and_is_cached(tiny_cnn):
    extractor = any_size_extractor(tiny_cnn, "conv")
    assert extractor.get_layer("conv") is tiny_cnn.get_layer("conv")  # same weights
    assert any_size_extractor(tiny_cnn, ["conv"]) is extractor
    assert len(extractor.outputs) == 1  # stops at the last layer asked for


def test_nested_block_in_chain(nested_functional):
    model, block = nested_functional
    x = np.random.default_rng(2).random((1, 16, 14, 1), dtype=np.float32)
    conv, pooled = any_size_extractor(model, ["conv", "block"])(x)
    expected = conv_relu(block.get_layer("conv"), x)
    assert_allclose(conv, expected, atol=1e-5)
    assert pooled.shape == (1, 7, 6, 4)  # the block's output: its pool layer


def test_any_size_model_is_only_cut():
    inputs = keras.Input((None, None, 3))
    x = layers.Conv2D(2, 3, padding="same", name="c1")(inputs)
    x = layers.Conv2D(2, 1, name="c2")(layers.Concatenate(name="cat")([x, inputs]))
    model = keras.Model(inputs, x)
    extractor = any_size_extractor(model, ["cat", "c1"])
    cat, c1 = extractor(np.zeros((1, 9, 5, 3), np.float32))
    assert cat.shape == (1, 9, 5, 5) and c1.shape == (1, 9, 5, 2)
    assert extractor.get_layer("c1") is model.get_layer("c1")


def test_non_chain_fixed_size_model_raises(two_branch):
    with pytest.raises(ValueError, match="not a chain of layers"):
        any_size_extractor(two_branch, ["conv_a"])


def test_unknown_layer_lists_conv_and_pool_layers(tiny_cnn):
    with pytest.raises(ValueError, match="no layer named 'nope'.*conv, pool$"):
        any_size_extractor(tiny_cnn, ["conv", "nope"])
    with pytest.raises(ValueError, match="at least one layer"):
        any_size_extractor(tiny_cnn, [])
