"""Model builders the experiments name: each returns a fresh, uncompiled Keras model.

Their keyword arguments with defaults are the `model.*` overrides an experiment accepts
(`model.dropout=0.3`).
"""

from __future__ import annotations

import keras
from keras import layers


def larger_cnn(
    input_shape: tuple[int, ...] = (28, 28, 1), classes: int = 10, dropout: float = 0.2
) -> keras.Model:
    """The 30/15-filter MNIST net of seed document 004 (after machinelearningmastery's "larger")."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(30, (5, 5), activation="relu", name="conv1"),
            layers.MaxPooling2D((2, 2), name="pool1"),
            layers.Conv2D(15, (3, 3), activation="relu", name="conv2"),
            layers.MaxPooling2D((2, 2), name="pool2"),
            layers.Dropout(dropout, name="dropout"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense1"),
            layers.Dense(50, activation="relu", name="dense2"),
            layers.Dense(classes, activation="softmax", name="predictions"),
        ],
        name="larger_cnn",
    )


def baseline_cnn(
    input_shape: tuple[int, ...] = (28, 28, 1), classes: int = 10, dropout: float = 0.2
) -> keras.Model:
    """The "more basic" one-conv-layer MNIST net that document 004 starts from."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, (5, 5), activation="relu", name="conv1"),
            layers.MaxPooling2D((2, 2), name="pool1"),
            layers.Dropout(dropout, name="dropout"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense1"),
            layers.Dense(classes, activation="softmax", name="predictions"),
        ],
        name="baseline_cnn",
    )
