"""A first-layer Conv2D with a cheaper gradient with respect to its input (TensorFlow only).

Why: gradient ascent on images spends most of its time in the input gradient of the first
convolution. With TensorFlow's oneDNN CPU kernels, `Conv2DBackpropInput` pads the input
channels to a block of 16, so for a grayscale or RGB input (1-4 channels) it costs as much as
for 16 channels: on the 30/15 MNIST net it is ~2/3 of every ascent step. The same gradient
computed as a depthwise convolution of the padded output gradient with the flipped kernel,
summed over output channels, is ~4x faster there, and exactly equal up to float rounding.

Only plain stride-1 Conv2D layers with few input channels qualify; anything else keeps
TensorFlow's own gradient. Forward values are the layer's own (same ops as `Conv2D.call`).
"""

from __future__ import annotations

import keras
import tensorflow as tf

MAX_INPUT_CHANNELS = 4  # beyond this the depthwise intermediate (out x in channels) grows


def qualifies(layer) -> bool:
    """True for a built float32 stride-1 Conv2D on channels-last inputs with 1-4 channels."""
    return (
        type(layer) is keras.layers.Conv2D
        and layer.built
        and tuple(layer.strides) == (1, 1)
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.groups == 1
        and layer.data_format == "channels_last"
        and layer.padding in ("valid", "same")
        and layer.compute_dtype == "float32"
        and layer.kernel.shape[2] <= MAX_INPUT_CHANNELS
    )


class FastInputGradConv2D(keras.layers.Layer):
    """Calls a qualifying Conv2D (sharing its weights); only the input gradient differs."""

    def __init__(self, conv, **kwargs):
        super().__init__(**kwargs)  # auto-named, so a shared conv can be wrapped twice
        self.conv = conv

    def call(self, x):
        conv = self.conv
        y = conv_with_fast_input_grad(x, tf.convert_to_tensor(conv.kernel), conv)
        if conv.use_bias:
            y = y + conv.bias
        return conv.activation(y) if conv.activation is not None else y

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)


def conv_with_fast_input_grad(x, kernel, conv):
    """`conv.convolution_op(x, kernel)`: (n, H, W, C) -> (n, H', W', K); fast d/dx, no d/dkernel."""
    kh, kw, c_in, c_out = kernel.shape

    @tf.custom_gradient
    def forward(x, kernel):
        def grad(dy):
            # y[i] = sum_a x[i + a - top] w[a]  =>  dx[j] = sum_b dy_pad[j + b] w_flipped[b],
            # with dy padded so that the "valid" correlation comes back to x's size.
            height, width = tf.shape(x)[1], tf.shape(x)[2]
            top = (kh - 1) // 2 if conv.padding == "same" else 0
            left = (kw - 1) // 2 if conv.padding == "same" else 0
            pad_top, pad_left = kh - 1 - top, kw - 1 - left
            pad_bottom = height + kh - 1 - tf.shape(dy)[1] - pad_top
            pad_right = width + kw - 1 - tf.shape(dy)[2] - pad_left
            dy = tf.pad(dy, [[0, 0], [pad_top, pad_bottom], [pad_left, pad_right], [0, 0]])
            flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])  # (kh, kw, K, C)
            dx = tf.nn.depthwise_conv2d(dy, flipped, [1, 1, 1, 1], "VALID")  # (n, H, W, K*C)
            shape = tf.shape(dx)
            dx = tf.reduce_sum(tf.reshape(dx, [shape[0], shape[1], shape[2], c_out, c_in]), 3)
            return dx, tf.zeros_like(kernel)  # the kernel is not optimised here

        return conv.convolution_op(x, kernel), grad

    return forward(x, kernel)
