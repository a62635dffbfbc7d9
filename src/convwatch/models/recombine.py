"""Recombine a conv layer's feature maps into an image: filter i feeds channel i mod C, averaged.

This is the fixed read-out of SEEDS 000's one-layer reconstruction net: of 12 feature maps, maps
0, 3, 6, 9 (filters 1, 4, 7, 10 counted from 1) are averaged into red, 1, 4, 7, 10 into green and
2, 5, 8, 11 into blue. It is a linear map with no weights to learn, written as one matrix so a
Keras layer can apply it to a batch in a single matmul.
"""

from __future__ import annotations

import keras
import numpy as np


def recombination_matrix(filters: int, channels: int = 3) -> np.ndarray:
    """The `(filters, channels)` matrix `M` with `maps @ M` = the recombined image.

    `M[i, i % channels]` is 1 / (number of filters feeding that channel); every other entry is 0,
    so each output channel is the mean of its filters.

    Args:
        filters: number of feature maps, at least `channels`.
        channels: number of output channels. Defaults to 3 (RGB).

    Returns:
        float32 `(filters, channels)`.
    """
    if channels < 1 or filters < channels:
        raise ValueError(
            f"need at least one filter per channel. Received: filters={filters}, "
            f"channels={channels}"
        )
    rows = np.arange(filters)
    matrix = np.zeros((filters, channels), np.float32)
    matrix[rows, rows % channels] = 1.0
    return matrix / matrix.sum(axis=0, keepdims=True)


def recombine(maps, channels: int = 3):
    """Average feature maps `(..., F)` into an image `(..., channels)`, filter i to channel i % C.

    Works on numpy arrays and backend tensors alike (inside a model too); returns a backend
    tensor of the same dtype as `maps`.
    """
    maps = keras.ops.convert_to_tensor(maps)
    matrix = recombination_matrix(int(maps.shape[-1]), channels)
    return keras.ops.matmul(maps, keras.ops.cast(matrix, maps.dtype))
