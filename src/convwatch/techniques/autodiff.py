"""The one place the Keras backends differ for the techniques: compiling a function that calls
a model, and the gradient of a function of an array inside it.

Everything else (the class score, the maps, the occlusion patches, guided ReLUs through
`keras.ops.custom_gradient`) is written once in `keras.ops`. Per backend:

- TensorFlow: `tf.function` (`reduce_retracing`: a second batch size traces once more, with
  that axis left open, then never again) and `tf.GradientTape`.
- JAX: `jax.jit`, the models' weights passed in as arguments on each call (through
  `keras.StatelessScope`), so the compiled function reads the live weights, never the values
  it was traced with; `jax.grad`. A new input shape compiles once more.
- PyTorch: eager under `torch.no_grad()`; `torch.autograd.grad` where a gradient is asked for.

Compiled functions take NumPy arrays (or tensors) and return NumPy arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

BACKENDS = ("tensorflow", "jax", "torch")


def backend() -> str:
    """The running Keras backend, one of `BACKENDS`; another one raises a RuntimeError."""
    name = keras.backend.backend()
    if name not in BACKENDS:
        raise RuntimeError(
            f"convwatch's techniques run on the Keras backends {BACKENDS}; this one is {name!r}."
        )
    return name


def compile_function(
    fn: Callable[..., Any],
    models: Sequence[Any],
    static_shapes: bool = False,
    signature: Sequence[tuple[tuple[int | None, ...], str]] | None = None,
) -> Callable[..., Any]:
    """`fn(*arrays)` compiled for the running backend; calls of `models` inside it read their
    current weights on every call.

    Args:
        fn: a function of tensors written in `keras.ops` (and `gradient`), returning a tensor
            or a tuple / list / dict of them.
        models: every model (or layer) `fn` calls, so JAX gets their weights as arguments.
        static_shapes: on TensorFlow, trace once per input shape, never leaving an axis
            open (faster graphs, for functions called with few shapes); JAX always does.
        signature: `(shape, dtype)` of each argument, None on the axes that vary: on
            TensorFlow, one trace for all of them (JAX compiles once per shape).

    Returns:
        A function of NumPy arrays returning NumPy arrays, in `fn`'s structure.
    """
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        if signature is not None:
            specs = [tf.TensorSpec(shape, dtype) for shape, dtype in signature]
            run = tf.function(fn, input_signature=specs, autograph=False)
        else:
            run = tf.function(fn, reduce_retracing=not static_shapes, autograph=False)
    elif name == "jax":
        run = _jax_function(fn, models)
    else:
        run = _torch_function(fn)

    def call(*arrays):
        return keras.tree.map_structure(keras.ops.convert_to_numpy, run(*arrays))

    return call


def gradient(fn: Callable[[Any], tuple[Any, Any]], x) -> tuple[Any, Any]:
    """`(d total / d x, aux)` where `fn(x) -> (total, aux)`, `total` a scalar; inside a function
    given to `compile_function` (under JAX it must be, to be compiled).

    Images that do not interact (a model in inference mode) get each their own gradient from
    the gradient of the sum of their scores: that is how every technique uses it.
    """
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)
            total, aux = fn(x)
        return tape.gradient(total, x), aux
    if name == "jax":
        import jax

        return jax.grad(fn, has_aux=True)(x)
    import torch

    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        total, aux = fn(x)
        (grad,) = torch.autograd.grad(total, x)
    return grad, keras.tree.map_structure(
        lambda t: t.detach() if isinstance(t, torch.Tensor) else t, aux
    )


def _variables(models) -> list:
    seen, variables = set(), []
    for model in models:
        for variable in model.variables:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables


def _jax_function(fn, models):
    import jax

    variables = _variables(models)

    def pure(values, *arrays):
        with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))):
            return fn(*arrays)

    jitted = jax.jit(pure)

    def run(*arrays):
        return jitted([v.value for v in variables], *(_jax_array(a) for a in arrays))

    return run


def _jax_array(a):
    # NumPy float64 / int64 would be cast down by JAX anyway; say so once here, without warnings
    if isinstance(a, np.ndarray) and a.dtype in (np.float64, np.int64):
        return a.astype(np.float32 if a.dtype == np.float64 else np.int32)
    return a


def _torch_function(fn):
    import torch

    def run(*arrays):
        with torch.no_grad():
            return fn(*(keras.ops.convert_to_tensor(a) for a in arrays))

    return run
