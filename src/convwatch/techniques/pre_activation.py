"""A layer's output before its activation: what `maximize_filters` climbs.

A ReLU unit that is off on the starting picture has a zero gradient, so gradient ascent on its
output never moves; on the pre-activation (the conv or dense output plus bias) it still climbs.
The wrapper shares the layer's weights and computes what the layer's own `call` computes, up
to the activation. Layers without an activation (or with `linear`) are their own pre-activation.

A stand-alone activation layer (`Activation`, `ReLU`, `LeakyReLU`, `PReLU`, `ELU`: how
ResNetV2, MobileNet and EfficientNet end their blocks) is climbed on its input, the same
argument: the layer before it (a convolution, a batch normalisation, an Add) computes its
pre-activation.
"""

from __future__ import annotations

import keras
from keras import ops

from convwatch.techniques.fast_grad import fast_version

_CONVS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_L = keras.layers
_ACTIVATIONS = (_L.Activation, _L.ReLU, _L.LeakyReLU, _L.PReLU, _L.ELU)


def has_activation(layer) -> bool:
    """True when `layer` applies an activation other than the identity."""
    activation = getattr(layer, "activation", None)
    return activation is not None and activation is not keras.activations.linear


def pre_activation_version(layer, x, fast_grad: bool = False):
    """A layer computing `layer`'s pre-activation on `x`, or None to use its output as it is:
    when that already is the pre-activation (no activation, or `linear`), or when the layer is
    not one this module opens up (only Conv1D/2D/3D and unquantised Dense layers are; a
    SeparableConv2D with a ReLU, say, is climbed on its output). A stand-alone activation
    layer gives its input (through a `PassThrough` layer)."""
    if type(layer) in _ACTIVATIONS and not _is_linear(layer):
        return PassThrough()
    if not has_activation(layer):
        return None
    if fast_grad and (wrapper := fast_version(layer, x, activation=False)):
        return wrapper
    plain = type(layer) in _CONVS or type(layer) is keras.layers.Dense
    if not plain or getattr(layer, "quantization_mode", None):
        return None
    return PreActivation(layer)


def _is_linear(layer) -> bool:
    return isinstance(layer, _L.Activation) and layer.activation is keras.activations.linear


class PassThrough(keras.layers.Layer):
    """Gives its input: the pre-activation of a stand-alone activation layer."""

    def call(self, x):
        return x

    def compute_output_shape(self, input_shape):
        return input_shape


class PreActivation(keras.layers.Layer):
    """Calls a Conv1D/2D/3D or Dense layer as its own `call` does, without the activation."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)  # auto-named, so a shared layer can be wrapped twice
        self.inner = layer

    def call(self, x):
        layer = self.inner
        if isinstance(layer, keras.layers.Dense):
            y = ops.matmul(x, layer.kernel)
            return y if layer.bias is None else ops.add(y, layer.bias)
        y = layer.convolution_op(x, layer.kernel)
        if not layer.use_bias:
            return y
        if layer.data_format == "channels_last":
            shape = (1,) * (layer.rank + 1) + (layer.filters,)
        else:
            shape = (1, layer.filters) + (1,) * layer.rank
        return ops.add(y, ops.reshape(layer.bias, shape))

    def compute_output_shape(self, input_shape):
        return self.inner.compute_output_shape(input_shape)
