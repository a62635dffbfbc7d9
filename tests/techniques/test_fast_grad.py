"""Fast-gradient wrappers: same values as the layer, same input gradient as autodiff."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from convwatch.techniques.fast_grad import (
    FastGradConv2D,
    FastGradMaxPooling2D,
    fast_version,
)

tensorflow_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the wrappers stand in for TensorFlow's slow gradient kernels only",
)


def values_and_input_grads(fn, x, upstream_shape):
    """fn(x) and d/dx of sum(fn(x) * r) for a random r: r probes the whole Jacobian."""
    upstream = tf.random.stateless_normal(upstream_shape, seed=[1, 2])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        loss = tf.reduce_sum(y * upstream)
    return y, tape.gradient(loss, x)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize(("channels", "kernel"), [(1, 5), (3, 3), (2, (4, 3))])
@tensorflow_only
def test_conv_matches_the_layer(padding, channels, kernel):
    keras.utils.set_random_seed(0)
    conv = layers.Conv2D(6, kernel, padding=padding, activation="tanh")
    x = tf.random.uniform((3, 11, 10, channels))
    shape = conv(x).shape  # builds the layer
    fast = FastGradConv2D(conv)
    y, grad = values_and_input_grads(conv, x, shape)
    y_fast, grad_fast = values_and_input_grads(fast, x, shape)
    np.testing.assert_allclose(y_fast, y, atol=1e-6)
    np.testing.assert_allclose(grad_fast, grad, atol=1e-5)


@pytest.mark.parametrize("pool_size", [2, (3, 2)])
@tensorflow_only
def test_max_pool_matches_the_layer_after_relu(pool_size):
    # ReLU zeros tie inside a window: TensorFlow sends their gradient to one of them, the mask
    # to all, but the ReLU in front discards it either way, so d/dz must agree exactly.
    pool = layers.MaxPooling2D(pool_size)
    z = tf.random.normal((2, 12, 12, 4), seed=3)
    pool(z)
    fast = FastGradMaxPooling2D(pool)
    shape = pool(z).shape
    y, grad = values_and_input_grads(lambda t: pool(tf.nn.relu(t)), z, shape)
    y_fast, grad_fast = values_and_input_grads(lambda t: fast(tf.nn.relu(t)), z, shape)
    np.testing.assert_array_equal(y_fast, y)
    np.testing.assert_allclose(grad_fast, grad, atol=1e-6)


@tensorflow_only
def test_only_plain_layers_qualify():
    def built(layer, shape=(2, 8, 8, 1)):
        layer.build(shape)
        return layer

    x1, x16, odd = tf.zeros((2, 8, 8, 1)), tf.zeros((2, 8, 8, 16)), tf.zeros((2, 9, 9, 1))
    assert isinstance(fast_version(built(layers.Conv2D(4, 3)), x1), FastGradConv2D)
    assert isinstance(fast_version(built(layers.MaxPooling2D(2)), x1), FastGradMaxPooling2D)
    assert fast_version(built(layers.Conv2D(4, 3, strides=2)), x1) is None
    assert fast_version(built(layers.Conv2D(4, 3, dilation_rate=2)), x1) is None
    # 16 input channels: oneDNN's own input gradient is fine there.
    assert fast_version(built(layers.Conv2D(4, 3), (2, 8, 8, 16)), x16) is None
    assert fast_version(built(layers.MaxPooling2D(2, strides=1)), x1) is None  # overlapping
    assert fast_version(built(layers.MaxPooling2D(2)), odd) is None  # 9 is not 2 windows
    assert fast_version(built(layers.Dense(4)), tf.zeros((2, 3))) is None
    assert fast_version(layers.Conv2D(4, 3), x1) is None  # not built


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="for the other backends")
def test_no_wrapper_off_tensorflow():
    conv = layers.Conv2D(2, 3)
    conv.build((None, 8, 8, 1))
    assert fast_version(conv, keras.KerasTensor((None, 8, 8, 1))) is None
