"""Fixtures for the interpretation techniques: a hand-set model whose answer is known."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

REGION = (slice(2, 4), slice(5, 7))  # the 2x2 pixel region the region model looks at


@pytest.fixture
def region_model():
    """8x8x1 -> 2 classes: class 0's logit is 3 x the sum of the REGION pixels, class 1's 0."""
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Flatten(name="flatten"),
            layers.Dense(2, activation="softmax", name="predictions"),
        ],
        name="region",
    )
    weights = np.zeros((8, 8, 2), np.float32)
    weights[REGION + (0,)] = 3.0
    model.get_layer("predictions").set_weights([weights.reshape(64, 2), np.zeros(2, np.float32)])
    return model


@pytest.fixture
def region_mask() -> np.ndarray:
    mask = np.zeros((8, 8), bool)
    mask[REGION] = True
    return mask
