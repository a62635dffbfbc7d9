"""Nets with fixed, not learned, weights: hand-made edge filters (seed document 001) and a
random-weight VGG-16 for its layer shapes (001, 002).

Four 4x4 filters: a vertical edge (left half -1, right half +1: dark-to-bright going right),
a horizontal edge (top -1, bottom +1), and their negatives. Set as a Conv2D's weights they show
what a first conv layer can pick out before any training: the maps before the ReLU (signed),
after it (only the positive responses) and after 2x2 max pooling (half the size, the strongest
response of each block kept).
"""

from __future__ import annotations

from typing import Annotated

import keras
import numpy as np
from keras import layers

from convwatch.base.ranges import PositiveInt, Range, validate_ranges

EDGE_NAMES = ("vertical", "horizontal", "vertical_negative", "horizontal_negative")


def edge_kernels(size: int = 4) -> np.ndarray:
    """float32 `(size, size, 1, 4)`: the filters of EDGE_NAMES, in that order."""
    if size < 2 or size % 2:
        raise ValueError(f"size must be an even number >= 2. Received: size={size}")
    vertical = np.ones((size, size), np.float32)
    vertical[:, : size // 2] = -1.0
    horizontal = vertical.T.copy()
    return np.stack([vertical, horizontal, -vertical, -horizontal], axis=-1)[:, :, None, :]


@validate_ranges
def edge_filter_net(
    input_shape: tuple[PositiveInt | None, ...] = (None, None, 1),
    size: Annotated[int, Range(2)] = 4,  # and even: see edge_kernels
) -> keras.Model:
    """Conv2D(4 edge filters, no bias, frozen) "conv" > ReLU "relu" > MaxPooling2D(2) "pool".

    Any image size by default (`(None, None, 1)`); pixel values as given (scale them to [0, 1]
    so the maps read as "edge contrast": at most `size * size / 2`).
    """
    kernels = edge_kernels(size)
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(input_shape)),
            layers.Conv2D(4, size, use_bias=False, trainable=False, name="conv"),
            layers.ReLU(name="relu"),
            layers.MaxPooling2D(2, name="pool"),
        ],
        name="edge_filters",
    )
    model.get_layer("conv").set_weights([kernels])
    return model


@validate_ranges
def vgg16(
    include_top: bool = False, input_shape: tuple[PositiveInt, ...] = (224, 224, 3)
) -> keras.Model:
    """`keras.applications.VGG16` with random weights (`weights=None`: nothing downloaded).

    `include_top=False` (the default) keeps the 13 conv and 5 pooling layers (14.7M
    parameters); True adds the three dense layers (138M parameters, a 528 MB model.keras) and
    needs `input_shape=(224, 224, 3)`.
    """
    return keras.applications.VGG16(
        weights=None, include_top=include_top, input_shape=tuple(input_shape)
    )
