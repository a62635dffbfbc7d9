"""Technique fixtures: small models of every shape convwatch must handle."""

from __future__ import annotations

import keras
import pytest
from keras import layers


@pytest.fixture
def two_branch():
    """Functional: a conv branch and a dense branch from one 12x12x1 input, concatenated."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((12, 12, 1))
    a = layers.Conv2D(3, 3, activation="relu", name="conv_a")(inputs)
    a = layers.GlobalAveragePooling2D(name="gap")(a)
    b = layers.Flatten(name="flat")(inputs)
    b = layers.Dense(5, activation="relu", name="dense_b")(b)
    merged = layers.Concatenate(name="merge")([a, b])
    outputs = layers.Dense(2, activation="softmax", name="out")(merged)
    return keras.Model(inputs, outputs, name="two_branch")


@pytest.fixture
def nested_functional():
    """Functional model holding a Sequential block (as a transfer-learning backbone would)."""
    keras.utils.set_random_seed(2)
    block = keras.Sequential(
        [layers.Conv2D(4, 3, activation="relu", name="conv"), layers.MaxPooling2D(2, name="pool")],
        name="block",
    )
    inputs = keras.Input((12, 12, 1))
    x = block(inputs)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(3, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="nested_functional"), block


@pytest.fixture
def nested_sequential():
    """Sequential model using a functional model as its first layer."""
    keras.utils.set_random_seed(3)
    inner_in = keras.Input((12, 12, 1))
    inner_out = layers.Conv2D(2, 3, activation="relu", name="inner_conv")(inner_in)
    inner = keras.Model(inner_in, inner_out, name="backbone")
    model = keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            inner,
            layers.Flatten(name="flatten"),
            layers.Dense(3, name="head"),
        ],
        name="nested_sequential",
    )
    return model, inner


@pytest.fixture
def unbuilt_sequential():
    """Sequential without an Input: it has no inputs until first called."""
    keras.utils.set_random_seed(4)
    return keras.Sequential(
        [
            layers.Conv2D(2, 3, activation="relu", name="conv"),
            layers.Flatten(name="flatten"),
            layers.Dense(3, name="dense"),
        ],
        name="unbuilt",
    )
