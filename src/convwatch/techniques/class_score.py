"""What the interpretation techniques share: the class score, the compiled-graph cache, checks.

The score of an image is the model's output for its class (the probability when the model ends
in a softmax); `classes=None` asks for the predicted class, passed to the graphs as -1 so the
prediction and the gradient come from one call. Written in `keras.ops`: they run on every
Keras backend (`autodiff.py` holds what differs).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import keras
import numpy as np
from keras import ops

from convwatch.techniques.extractor import ensure_built

# model -> {key: compiled function}; entries go when the model is garbage-collected.
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def check_inputs(name: str, model, images, classes) -> tuple[np.ndarray, np.ndarray]:
    """`images` as float32 `(N, H, W, C)` and `classes` as int32 `(N,)` (-1: predicted class)."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or len(x) == 0:
        raise ValueError(f"{name}: `images` must be (N, H, W, C) with N >= 1. Received: {x.shape}")
    ensure_built(model, x)
    if classes is None:
        return x, np.full(len(x), -1, np.int32)
    c = np.asarray(classes, dtype=np.int32).reshape(-1)
    if c.shape != (len(x),):
        raise ValueError(
            f"{name}: `classes` needs one class per image ({len(x)}). Received: {classes=}"
        )
    return x, c


def compiled(model, key: tuple, build: Callable[[], Callable]) -> Callable:
    """The graph `build()` makes for (model, key), built once and cached."""
    per_model = _GRAPHS.setdefault(model, {})
    if key not in per_model:
        per_model[key] = build()
    return per_model[key]


def first_output(outputs):
    """The first (usually only) output of a model call."""
    return keras.tree.flatten(outputs)[0]


def class_scores(predictions, classes):
    """`(N, K)` predictions and `(N,)` classes (-1: the argmax) -> `(N,)` scores and classes."""
    predicted = ops.cast(ops.argmax(predictions, axis=-1), "int32")
    classes = ops.where(ops.cast(classes, "int32") < 0, predicted, ops.cast(classes, "int32"))
    mask = ops.one_hot(classes, predictions.shape[-1], dtype=predictions.dtype)
    return ops.sum(predictions * mask, axis=-1), classes
