"""The compiled batched ascent behind `maximize_filters`: one function per layer and setting.

The batch dimension is the filters: picture i climbs filter `filters[i]`'s objective, and the
step loop runs inside the compiled function (`keras.ops.fori_loop`; on PyTorch, eager). `offset`
is the picture minus grey, left free (dual averaging); the picture is `clip(0.5 + offset, 0,
1)` and the gradient is taken there, so a pixel held at 0 or 1 keeps being pushed. Each step:
shift the picture by `(dy, dx)` in `[-jitter, jitter]` (a hash of the seed and the step: the
same shifts on every backend), take the gradient, blur it, zero it outside the mask, normalise
it per picture, and move `offset <- (1 - rate) * offset + rate * radius * g`.
"""

from __future__ import annotations

import weakref
from collections import Counter

import keras
import numpy as np
from keras import ops

from convwatch.techniques import autodiff, regularize
from convwatch.techniques.extractor import feature_extractor

# model -> {(layer path, image shape, objective, blur taps): (ascent, score, filters)}.
_ASCENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
TRACES: Counter = Counter()  # layer path -> how often its ascent was traced (tests)
_BORDER = 2  # the channel objective skips 2 border pixels of the map, as keras.io does


def compiled_ascent(model, path: str, shape: tuple, objective: str, centre, n_taps: int):
    """`(ascent, score, n_filters)` for this layer and setting, built once and cached.

    `ascent(start, mask, filters, steps, rate, radius, jitter, taps, seed) -> offset` and
    `score(pictures, filters) -> (F,)` (the objective, no gradient), functions of NumPy arrays.
    The objective is `"neuron"` (the unit at `centre`), `"channel"` (the map's mean without a
    2-pixel border) or `"unit"` (a Dense unit), on the layer's pre-activation."""
    per_model = _ASCENTS.setdefault(model, {})
    key = (path, shape, objective, n_taps)
    if key not in per_model:
        sample = np.zeros((1, *shape), np.float32)
        extractor = feature_extractor(model, [path], sample, fast_grad=True, pre_activation=True)
        n_filters = extractor.outputs[0].shape[-1]
        measure = _objective(extractor, objective, centre, n_filters)
        ascent = _compile(measure, extractor, path, len(shape), n_taps > 1)
        score = autodiff.compile_function(measure, [extractor])
        per_model[key] = (ascent, score, n_filters)
    return per_model[key]


def _objective(extractor, objective, centre, n_filters):
    """`(pictures (F, H, W, C), filters (F,)) -> (F,)`: what each picture's filter climbs."""

    def measure(pictures, filters):
        activation = keras.tree.flatten(extractor(pictures, training=False))[0]
        # Channel filters[i] of picture i, as a one-hot product: its gradient is a product too
        # (a batched gather's gradient costs two transposes and a segment sum per step).
        mask = ops.one_hot(filters, n_filters, dtype=activation.dtype)
        if objective == "neuron":
            activation = activation[:, centre[0], centre[1]]
        elif objective == "channel":
            h, w = activation.shape[1:3]
            border = _BORDER if min(h, w) > 2 * _BORDER else 0
            activation = activation[:, border : h - border, border : w - border]
            activation = ops.mean(activation, axis=(1, 2))
        return ops.sum(activation * mask, axis=-1)

    return measure


def step_shift(seed, step, jitter):
    """`(2,)` int32 `(dy, dx)` in `[-jitter, jitter]`, a hash of `(seed, step)` alone: integer
    ops that wrap alike on every backend, so every backend jitters the same way."""
    k = ops.arange(1, 3, dtype="int32")
    h = ops.bitwise_xor(ops.cast(seed, "int32") * 73856093, ops.cast(step, "int32") * 19349663)
    h = ops.bitwise_xor(h, k * 83492791)
    h = ops.bitwise_xor(h, ops.right_shift(h, 16)) * 73244475
    h = ops.bitwise_xor(h, ops.right_shift(h, 16))
    return ops.mod(h, 2 * jitter + 1) - jitter


def _compile(measure, extractor, path, rank, blurred):
    axes = tuple(range(1, rank + 1))

    # Static shapes on TensorFlow: Grappler folds the shape arithmetic (~10-30% faster per
    # step), at the price of one trace per number of filters (then reused).
    def ascent(start, mask, filters, steps, rate, radius, jitter, taps, seed):
        TRACES[path] += 1  # Python side effect: runs when the function is traced

        def step(i, offset):  # the picture is clip(0.5 + offset); offset itself is left free
            shift = step_shift(seed, i, jitter)

            def climb(pictures):  # pictures do not interact: the sum's gradient is each one's
                shifted = ops.roll(pictures, (shift[0], shift[1]), (1, 2))
                return ops.sum(measure(shifted, filters)), None

            # The gradient at the clipped picture moves the free offset: a pixel at 0 or 1 is
            # still pushed, not released by the clip's zero gradient.
            grads, _ = autodiff.gradient(climb, ops.clip(0.5 + offset, 0.0, 1.0))
            if blurred:
                grads = regularize.blur(grads, taps)
            grads = _l2_normalize(grads * mask, axes)
            return (1 - rate) * offset + rate * radius * grads

        return ops.fori_loop(0, steps, step, start)

    return autodiff.compile_function(ascent, [extractor], static_shapes=True)


def _l2_normalize(x, axes):
    """`x / |x|` per picture, as `tf.math.l2_normalize` (a zero gradient stays zero)."""
    return x * ops.rsqrt(ops.maximum(ops.sum(ops.square(x), axis=axes, keepdims=True), 1e-12))
