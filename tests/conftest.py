"""Shared fixtures: tiny models with fixed layer names, random data, and an offline sandbox."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CONVWATCH_OFFLINE"] = "1"  # no test ever downloads

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _sandbox(tmp_path_factory, monkeypatch):
    """An empty Keras cache per test, so nothing depends on what this machine has downloaded."""
    home = tmp_path_factory.mktemp("keras_home")
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv("CONVWATCH_OFFLINE", "1")


@pytest.fixture
def tiny_cnn():
    """A 3-layer conv net on 12x12x1 inputs: conv (4 filters) > pool > dense (3 classes)."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape=(12, 12, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, activation="softmax", name="predictions"),
        ],
        name="tiny_cnn",
    )


@pytest.fixture
def images():
    """16 random 12x12x1 float images in [0, 1] and their labels 0..2."""
    rng = np.random.default_rng(0)
    return rng.random((16, 12, 12, 1), dtype=np.float32), rng.integers(0, 3, 16)
