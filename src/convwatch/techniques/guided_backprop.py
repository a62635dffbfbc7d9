"""Guided backpropagation (Springenberg et al., 2014): gradients through "guided" ReLUs.

A guided ReLU passes a gradient back only where its forward input was positive (the ordinary
ReLU rule) AND the gradient arriving from above is positive. Keras 3 has no gradient-override
registry, so the compiled gradient is traced while every plain ReLU of the model is swapped for
one with that custom gradient (`keras.ops.custom_gradient`, on every backend):
`activation="relu"` on any layer (Conv2D, Dense, Activation) and `keras.layers.ReLU()` layers
with default settings. The swap lasts only for the model call being traced (on PyTorch, which
does not trace, for each call) and is undone at once; the compiled function keeps reading the
model's live weights.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
from keras import ops

from convwatch.techniques.class_score import check_inputs, compiled
from convwatch.techniques.layers import walk
from convwatch.techniques.saliency import input_gradient


@ops.custom_gradient
def guided_relu(x):
    """ReLU forward; backward, `dy` only where both `x > 0` and `dy > 0`."""

    def gradient(*args, upstream=None):  # dy: TensorFlow and JAX pass it first, torch by name
        dy = args[0] if upstream is None else upstream
        return dy * ops.cast(x > 0, dy.dtype) * ops.cast(dy > 0, dy.dtype)

    return ops.relu(x), gradient


def _guided_relu_call(inputs, *args, **kwargs):
    return guided_relu(inputs)


def _plain_relu_layer(layer) -> bool:
    return (
        isinstance(layer, keras.layers.ReLU)
        and not layer.negative_slope
        and layer.max_value is None
        and not layer.threshold
    )


@contextlib.contextmanager
def guided_relus(model):
    """Within the block, every plain ReLU of `model` (nested models too) is a guided ReLU."""
    swapped = []
    try:
        for _, layer in walk(model):
            if getattr(layer, "activation", None) is keras.activations.relu:
                layer.activation = guided_relu
                swapped.append((layer, "activation"))
            elif _plain_relu_layer(layer):
                layer.call = _guided_relu_call  # an instance attribute shadows ReLU.call
                swapped.append((layer, "call"))
        yield len(swapped)
    finally:
        for layer, what in swapped:
            if what == "activation":
                layer.activation = keras.activations.relu
            else:
                del layer.call


def guided_backprop(model, images, classes=None) -> np.ndarray:
    """The gradient of each image's class score with respect to its pixels, through guided ReLUs.

    Sharper than a saliency map: only the paths that add positive evidence survive. All images
    go through one compiled gradient call; the graph is traced once per model and image shape.

    Args:
        model: a Keras 3 classifier (Sequential, functional, nested; built or not).
        images: `(N, H, W, C)` floats, as the model takes them.
        classes: `(N,)` class per image. Defaults to None: each image's predicted class.

    Returns:
        float32 `(N, H, W, C)`, signed (show it with `plots.interpretation.signed_image`).
    """
    x, c = check_inputs("guided_backprop", model, images, classes)
    gradient = compiled(model, ("guided_backprop",), lambda: input_gradient(model, guided_relus))
    return gradient(x, c)[0]
