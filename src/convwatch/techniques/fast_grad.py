"""Layer wrappers with the same forward values and a faster input gradient (TensorFlow only:
the slow kernels below are TensorFlow's; on JAX and PyTorch the layers keep their own gradient).

Gradient ascent on images (`maximize_filters`) is all input gradients; two of them are slow
with TensorFlow's oneDNN CPU kernels on small conv nets, measured on the 30/15 MNIST net:

- `Conv2DBackpropInput` pads the input channels to a block of 16, so for a first convolution
  on grayscale or RGB images (1-4 channels) it costs as much as for 16 channels: ~2/3 of an
  ascent step. The same gradient, a depthwise convolution of the output gradient with the
  flipped kernel summed over output channels, is ~4x faster.
- `MaxPoolGrad` is rewritten to oneDNN's fast kernel in only some processes (the rewrite
  depends on graph order); the plain kernel makes a step ~1.5x slower. For non-overlapping
  windows the gradient is a mask, `x == upsampled(max)`, times the upsampled output gradient:
  as fast as the good case, every time. Ties differ: each tied maximum gets the gradient where
  TensorFlow picks one; after a ReLU the only ties are zeros, whose gradient the ReLU discards.

Wrappers share the wrapped layer's weights and reuse its own ops for the forward pass; a layer
that does not qualify keeps TensorFlow's gradient.
"""

from __future__ import annotations

import keras

MAX_INPUT_CHANNELS = 4  # beyond this the depthwise intermediate (out x in channels) grows


def fast_version(layer, x, activation: bool = True):
    """A wrapper layer for `layer` called on `x` if one applies, else None.

    `activation=False` asks for a Conv2D's output before its activation (the pre-activation
    `maximize_filters` climbs); a pooling layer has no activation, so it then gets None."""
    if keras.backend.backend() != "tensorflow":
        return None
    shape = getattr(x, "shape", None)  # None for a list of inputs (Concatenate, Add, ...)
    if shape is None or len(shape) != 4 or None in tuple(shape[1:3]):
        return None  # the gradients below need a known height and width
    if getattr(layer, "compute_dtype", None) != "float32" or not layer.built:
        return None
    if _conv_qualifies(layer):
        return FastGradConv2D(layer, activation=activation)
    if activation and _pool_qualifies(layer, x):
        return FastGradMaxPooling2D(layer)
    return None


def _conv_qualifies(layer) -> bool:
    return (
        type(layer) is keras.layers.Conv2D
        and tuple(layer.strides) == (1, 1)
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.groups == 1
        and layer.data_format == "channels_last"
        and layer.padding in ("valid", "same")
        and layer.kernel.shape[2] <= MAX_INPUT_CHANNELS
    )


def _pool_qualifies(layer, x) -> bool:
    return (
        type(layer) is keras.layers.MaxPooling2D
        and tuple(layer.pool_size) == tuple(layer.strides)
        and layer.padding == "valid"
        and layer.data_format == "channels_last"
        and x.shape[1] % layer.pool_size[0] == 0
        and x.shape[2] % layer.pool_size[1] == 0
    )


class FastGradConv2D(keras.layers.Layer):
    """Calls a stride-1 Conv2D on 1-4 channels like `Conv2D.call`; d/dx is a depthwise conv.

    With `activation=False`, the conv's output before its activation."""

    def __init__(self, conv, activation: bool = True, **kwargs):
        super().__init__(**kwargs)  # auto-named, so a shared layer can be wrapped twice
        self.conv = conv
        self.apply_activation = activation

    def call(self, x):
        import tensorflow as tf

        conv = self.conv
        kernel = tf.convert_to_tensor(conv.kernel)  # (kh, kw, C, K)
        kh, kw, c_in, c_out = kernel.shape

        @tf.custom_gradient
        def convolve(x, kernel):
            def grad(dy):
                # y[i] = sum_a x[i + a - top] w[a]  =>  dx[j] = sum_b dy_pad[j + b] w_flip[b],
                # dy padded (inside the op) so the correlation comes back to x's size.
                top = (kh - 1) // 2 if conv.padding == "same" else 0
                left = (kw - 1) // 2 if conv.padding == "same" else 0
                bottom = x.shape[1] + kh - 1 - dy.shape[1] - (kh - 1 - top)
                right = x.shape[2] + kw - 1 - dy.shape[2] - (kw - 1 - left)
                pads = [[0, 0], [kh - 1 - top, bottom], [kw - 1 - left, right], [0, 0]]
                flipped = tf.reverse(kernel, [0, 1])
                if c_in == 1:  # (kh, kw, 1, K) -> (kh, kw, K, 1) is a reshape, not a transpose
                    flipped = tf.reshape(flipped, [kh, kw, c_out, 1])
                else:
                    flipped = tf.transpose(flipped, [0, 1, 3, 2])
                dx = tf.nn.depthwise_conv2d(dy, flipped, [1, 1, 1, 1], pads)  # (n, H, W, K*C)
                dx = tf.reshape(dx, [-1, x.shape[1], x.shape[2], c_out, c_in])
                return tf.reduce_sum(dx, axis=3), tf.zeros_like(kernel)  # kernel: not optimised

            return conv.convolution_op(x, kernel), grad

        y = convolve(x, kernel)
        if conv.use_bias:
            y = y + conv.bias
        if self.apply_activation and conv.activation is not None:
            return conv.activation(y)
        return y

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)


class FastGradMaxPooling2D(keras.layers.Layer):
    """Calls a non-overlapping MaxPooling2D; d/dx is a mask of the window maxima."""

    def __init__(self, pool, **kwargs):
        super().__init__(**kwargs)
        self.pool = pool

    def call(self, x):
        import tensorflow as tf

        ph, pw = self.pool.pool_size

        def upsample(t):  # (n, h, w, c) -> (n, h * ph, w * pw, c), each value repeated
            n, h, w, c = t.shape
            t = tf.broadcast_to(t[:, :, None, :, None, :], [tf.shape(t)[0], h, ph, w, pw, c])
            return tf.reshape(t, [-1, h * ph, w * pw, c])

        @tf.custom_gradient
        def pool(x):
            y = self.pool(x)

            def grad(dy):
                return tf.cast(tf.equal(x, upsample(y)), dy.dtype) * upsample(dy)

            return y, grad

        return pool(x)

    def compute_output_shape(self, input_shape):
        return self.pool.compute_output_shape(input_shape)
