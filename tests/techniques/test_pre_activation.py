"""The pre-activation wrappers: a layer's output before its activation, same weights."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from convwatch.techniques.extractor import feature_extractor
from convwatch.techniques.fast_grad import FastGradConv2D
from convwatch.techniques.pre_activation import PreActivation, pre_activation_version
from tests.arrays import assert_allclose, numpy


@pytest.mark.parametrize(
    "layer",
    [
        layers.Conv2D(3, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2D(3, 3, dilation_rate=2, activation="sigmoid", use_bias=False),
        layers.Dense(4, activation="relu"),
    ],
)
def test_equals_the_layer_with_a_linear_activation(layer):
    keras.utils.set_random_seed(0)
    x = tf.random.normal((2, 9, 9, 2))
    layer(x)  # build
    linear = layer.__class__.from_config({**layer.get_config(), "activation": "linear"})
    linear(x)
    linear.set_weights(layer.get_weights())
    assert_allclose(PreActivation(layer)(x), linear(x), atol=1e-5)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="fast_grad: TensorFlow only")
def test_fast_first_conv_and_plain_layers():
    conv = layers.Conv2D(4, 3, activation="relu")
    x = tf.random.normal((2, 8, 8, 1))
    conv(x)
    wrapper = pre_activation_version(conv, x, fast_grad=True)
    assert isinstance(wrapper, FastGradConv2D)
    expected = tf.nn.conv2d(x, conv.kernel, 1, "VALID") + conv.bias
    assert_allclose(wrapper(x), expected, atol=1e-5)
    linear = layers.Conv2D(4, 3)
    linear(x)
    assert pre_activation_version(linear, x) is None  # already its own pre-activation
    separable = layers.SeparableConv2D(2, 3, activation="relu")
    separable(x)
    assert pre_activation_version(separable, x) is None  # not opened up: its output is used


def test_extractor_gives_pre_activations_inside_nested_models(nested_functional):
    model, block = nested_functional
    x = np.random.default_rng(0).random((3, 12, 12, 1)).astype(np.float32)
    out = feature_extractor(model, ["conv"], pre_activation=True)(x)
    out = keras.tree.flatten(out)[0]
    kernel, bias = block.get_layer("conv").get_weights()
    assert_allclose(out, tf.nn.conv2d(x, kernel, 1, "VALID") + bias, atol=1e-5)
    assert numpy(out).min() < 0  # not the ReLU output
