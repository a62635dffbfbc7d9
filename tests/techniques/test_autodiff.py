"""autodiff: compiled functions read the live weights and gradients are right, on the running
backend."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from convwatch.techniques import autodiff


def _dense(weight: float):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False)])
    model.layers[0].set_weights([np.full((3, 1), weight, np.float32)])
    return model


def test_a_compiled_function_reads_the_weights_of_each_call_not_of_its_trace():
    model = _dense(1.0)
    run = autodiff.compile_function(lambda x: model(x, training=False), [model])
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    np.testing.assert_allclose(run(x), [[6.0]])
    model.layers[0].set_weights([np.full((3, 1), 2.0, np.float32)])
    np.testing.assert_allclose(run(x), [[12.0]])
    np.testing.assert_allclose(run(np.ones((4, 3), np.float32)), np.full((4, 1), 6.0))


def test_gradient_of_a_known_function_and_its_aux():
    def fn(x):
        def total(x):
            return ops.sum(x**3), ops.sum(x, axis=-1)

        return autodiff.gradient(total, x)

    x = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    grad, aux = autodiff.compile_function(fn, [])(x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-6)
    np.testing.assert_allclose(aux, x.sum(-1), rtol=1e-6)


def test_gradient_through_a_model_with_respect_to_its_input():
    model = _dense(0.5)

    def fn(x):
        return autodiff.gradient(lambda x: (ops.sum(model(x, training=False) ** 2), x), x)

    x = np.array([[1.0, 1.0, 2.0]], np.float32)  # y = 0.5 * 4 = 2, d y^2 / d x = 2 y * 0.5
    grad, _ = autodiff.compile_function(fn, [model])(x)
    np.testing.assert_allclose(grad, np.full((1, 3), 2.0), rtol=1e-6)


def test_an_unknown_backend_is_named(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "numpy")
    with pytest.raises(
        RuntimeError, match=r"\('tensorflow', 'jax', 'torch'\); this one is 'numpy'"
    ):
        autodiff.backend()
