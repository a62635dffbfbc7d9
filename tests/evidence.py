"""A hand-set classifier whose answer is known, for the interpretation tests.

8x8x1 images; the "object" is REGION, the rest is background. Class 0's logit is 3 x the sum of
the REGION pixels; class 1's is 0.1 x the sum of every other pixel, so lighting up the
background (a grey occlusion patch on black) is evidence for class 1. A 1x1 conv (weight 1, no
bias, ReLU: it copies the image) comes first, so Grad-CAM has a conv layer to read.
"""

from __future__ import annotations

import numpy as np

REGION = (slice(2, 4), slice(5, 7))  # rows 2-3, columns 5-6: off the border


def sigmoid(z: float) -> float:
    """p(class) of a 2-class softmax whose logits differ by z."""
    return float(1 / (1 + np.exp(-z)))


def evidence_model():
    """The model above, as a Sequential with layers "conv", "flatten", "predictions"."""
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(1, 1, activation="relu", name="conv"),
            layers.Flatten(name="flatten"),
            layers.Dense(2, activation="softmax", name="predictions"),
        ],
        name="evidence",
    )
    model.get_layer("conv").set_weights([np.ones((1, 1, 1, 1), np.float32), np.zeros(1)])
    weights = np.zeros((8, 8, 2), np.float32)
    weights[..., 1] = 0.1
    weights[REGION + (1,)] = 0.0
    weights[REGION + (0,)] = 3.0
    dense = model.get_layer("predictions")
    dense.set_weights([weights.reshape(64, 2), np.zeros(2, np.float32)])
    return model


def region_mask() -> np.ndarray:
    mask = np.zeros((8, 8), bool)
    mask[REGION] = True
    return mask
