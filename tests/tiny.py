"""The tiny MNIST classifier the runner, compare and model=PATH tests run end to end."""

from __future__ import annotations


def tiny_classifier(filters: int = 4):
    """conv (`filters` 3x3) > 4x4 max pool > softmax over 10 classes, on 28x28x1 inputs."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(filters, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(4, name="pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(10, activation="softmax", name="predictions"),
        ]
    )
