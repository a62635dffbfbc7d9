"""model_outputs names a model's outputs, picks one, or reads any layer's output."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from convwatch.techniques.outputs import model_outputs

X = np.random.default_rng(0).random((2, 4, 4, 3)).astype("float32")


def two_heads():
    inputs = keras.Input((4, 4, 3))
    a = keras.layers.Conv2D(3, 1, name="a")(inputs)
    return keras.Model(inputs, [a, keras.layers.Conv2D(2, 1, name="b")(a)])


def test_names_and_choices():
    model = two_heads()
    both = model_outputs(model, X)
    assert list(both) == ["a", "b"] and both["b"].shape == (2, 4, 4, 2)
    assert list(model_outputs(model, X, output=1)) == ["b"]
    np.testing.assert_allclose(model_outputs(model, X, output="a")["a"], both["a"], rtol=1e-6)
    with pytest.raises(ValueError, match="2 outputs"):
        model_outputs(model, X, output=2)


def test_a_sequential_model_has_one_output_named_output():
    model = keras.Sequential([keras.layers.Conv2D(3, 1)])  # unbuilt: the call builds it
    ((name, value),) = model_outputs(model, X).items()
    assert name == "output" and value.shape == (2, 4, 4, 3)
