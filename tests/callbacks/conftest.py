"""Models of every shape the callbacks must handle, and a tiny training helper."""

from __future__ import annotations

import numpy as np
import pytest


def sequential():
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(12, 12, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, activation="softmax", name="predictions"),
        ]
    )


def unbuilt_sequential():
    """No Input: the model is built only when fit sees the first batch."""
    import keras

    return keras.Sequential(
        [
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, activation="softmax", name="predictions"),
        ]
    )


def two_branches():
    import keras

    inputs = keras.Input(shape=(12, 12, 1))
    a = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    b = keras.layers.Conv2D(2, 5, activation="relu", name="conv_wide")(inputs)
    a = keras.layers.GlobalAveragePooling2D(name="gap_a")(a)
    b = keras.layers.GlobalAveragePooling2D(name="gap_b")(b)
    merged = keras.layers.Concatenate(name="merge")([a, b])
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(merged)
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(hidden)
    return keras.Model(inputs, outputs)


def nested():
    """A Sequential block used as a layer of a functional model (the transfer-learning shape)."""
    import keras

    block = keras.Sequential(
        [
            keras.Input(shape=(12, 12, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(2, name="pool"),
        ],
        name="backbone",
    )
    inputs = keras.Input(shape=(12, 12, 1))
    x = block(inputs)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(8, activation="relu", name="hidden")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs)


MODELS = {
    "sequential": sequential,
    "unbuilt": unbuilt_sequential,
    "two_branches": two_branches,
    "nested": nested,
}


@pytest.fixture(params=sorted(MODELS))
def any_model(request):
    import keras

    keras.utils.set_random_seed(0)
    model = MODELS[request.param]()
    model.compile("adam", "sparse_categorical_crossentropy")
    return request.param, model


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    return rng.random((32, 12, 12, 1), dtype=np.float32), rng.integers(0, 3, 32)


@pytest.fixture
def seq():
    """The plain Sequential model, compiled."""
    import keras

    keras.utils.set_random_seed(0)
    model = sequential()
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def train_end(callback, model):
    """Run `callback` through a fit of no epochs: train begin, then train end."""
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_train_end()


def fit_seeded(callback, data, epochs: int = 2):
    """A fresh `sequential()` from seed 0 fitted with `callback`, so that two calls train the
    same weights: for comparing one capture's files across its ways of running."""
    import keras

    keras.utils.set_random_seed(0)
    model = sequential()
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = data
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=[callback])
    return model
