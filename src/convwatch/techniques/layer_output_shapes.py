"""Layer output shapes of any model, and the conv arithmetic of seed document 002.

`conv_output_size` is the formula; `conv_arithmetic` checks it against what Keras builds, by
calling real Conv2D layers on a symbolic input (no data, no weights to train).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras

from convwatch.techniques.layers import layer_paths, walk

# Document 002's cases on a 32x32x3 input: (kernel, stride, padding).
CASES = ((3, 1, "valid"), (3, 1, "same"), (3, 2, "valid"), (3, 2, "same"), (5, 1, "valid"))


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: str = "valid") -> int:
    """Output length of a convolution: valid `floor((n - k) / s) + 1`, same `ceil(n / s)`."""
    if padding == "valid":
        return (size - kernel) // stride + 1
    if padding == "same":
        return math.ceil(size / stride)
    raise ValueError(f"padding must be 'valid' or 'same'. Received: padding={padding!r}")


def conv_arithmetic(
    input_shape: Sequence[int] = (32, 32, 3), cases=CASES, filters: int = 8
) -> list[dict]:
    """For each (kernel, stride, padding): the formula's output size and the one Keras builds.

    Returns:
        One dict per case: input, kernel, stride, padding, formula (`"HxW"`), keras (the
        built layer's `(H, W, filters)` as `"HxWxF"`) and `agree` (bool).
    """
    inputs = keras.Input(tuple(input_shape))
    rows = []
    for kernel, stride, padding in cases:
        out = keras.layers.Conv2D(filters, kernel, strides=stride, padding=padding)(inputs)
        h, w = (conv_output_size(n, kernel, stride, padding) for n in input_shape[:2])
        built = tuple(int(d) for d in out.shape[1:])
        rows.append(
            {
                "input": "x".join(map(str, input_shape)),
                "kernel": f"{kernel}x{kernel}",
                "stride": stride,
                "padding": padding,
                "formula": f"{h}x{w}",
                "keras": "x".join(map(str, built)),
                "agree": built[:2] == (h, w),
            }
        )
    return rows


def layer_shapes(model) -> list[dict]:
    """One dict per layer in model order (nested models and their layers too): name (canonical,
    see `layers.py`), class, output shape (`"(None, 224, 224, 64)"`) and parameter count."""
    layers = dict(walk(model))
    rows = []
    for name, path in layer_paths(model).items():
        layer = layers[path]
        try:
            shape = str(tuple(layer.output.shape))
        except (AttributeError, ValueError):  # a layer never called symbolically
            shape = "?"
        rows.append(
            {
                "layer": name,
                "class": type(layer).__name__,
                "output_shape": shape,
                "params": int(layer.count_params()) if layer.built else 0,
            }
        )
    return rows
