"""The compiled batched ascent behind `maximize_filters`: one graph per layer and setting.

The batch dimension is the filters: picture i climbs filter `filters[i]`'s objective, and the
step loop runs inside the graph. `offset` is the picture minus grey, left free (dual
averaging); the picture is `clip(0.5 + offset, 0, 1)` and the gradient is taken there, so a
pixel held at 0 or 1 keeps being pushed. Each step: shift the picture by a random
`(dy, dx)` in `[-jitter, jitter]` (stateless, from the seed and the step), take the gradient,
blur it, zero it outside the mask, normalise it per picture, and move
`offset <- (1 - rate) * offset + rate * radius * g`.
"""

from __future__ import annotations

import weakref
from collections import Counter

import keras
import numpy as np
import tensorflow as tf

from convwatch.techniques import regularize
from convwatch.techniques.extractor import feature_extractor

# model -> {(layer path, image shape, objective, blur taps): (ascent, score, filters)}.
_ASCENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
TRACES: Counter = Counter()  # layer path -> how often its ascent was traced (tests)
_BORDER = 2  # the channel objective skips 2 border pixels of the map, as keras.io does


def compiled_ascent(model, path: str, shape: tuple, objective: str, centre, n_taps: int):
    """`(ascent, score, n_filters)` for this layer and setting, built once and cached.

    `ascent(start, mask, filters, steps, rate, radius, jitter, taps, seed) -> offset` and
    `score(pictures, filters) -> (F,)` (the objective, no gradient). The objective is
    `"neuron"` (the unit at `centre`), `"channel"` (the map's mean without a 2-pixel border) or
    `"unit"` (a Dense unit), on the layer's pre-activation."""
    per_model = _ASCENTS.setdefault(model, {})
    key = (path, shape, objective, n_taps)
    if key not in per_model:
        sample = np.zeros((1, *shape), np.float32)
        extractor = feature_extractor(model, [path], sample, fast_grad=True, pre_activation=True)
        n_filters = extractor.outputs[0].shape[-1]
        measure = _objective(extractor, objective, centre, n_filters)
        ascent = _compile(measure, path, len(shape), n_taps > 1)
        per_model[key] = (ascent, tf.function(measure, autograph=False), n_filters)
    return per_model[key]


def _objective(extractor, objective, centre, n_filters):
    """`(pictures (F, H, W, C), filters (F,)) -> (F,)`: what each picture's filter climbs."""

    def measure(pictures, filters):
        activation = keras.tree.flatten(extractor(pictures, training=False))[0]
        # Channel filters[i] of picture i, as a one-hot product: its gradient is a product too
        # (a batched gather's gradient costs two transposes and a segment sum per step).
        mask = tf.one_hot(filters, n_filters, dtype=activation.dtype)
        if objective == "neuron":
            activation = activation[:, centre[0], centre[1]]
        elif objective == "channel":
            h, w = activation.shape[1:3]
            border = _BORDER if min(h, w) > 2 * _BORDER else 0
            activation = activation[:, border : h - border, border : w - border]
            activation = tf.reduce_mean(activation, axis=[1, 2])
        return tf.reduce_sum(activation * mask, axis=-1)

    return measure


def _compile(measure, path, rank, blurred):
    axes = list(range(1, rank + 1))

    # No input_signature: static batch shapes let Grappler fold the shape arithmetic (~10-30%
    # faster per step), at the price of one trace per number of filters (then reused). No
    # autograph: the loop is a plain tf.while_loop, and converting the code cost more than
    # tracing it (~0.7 s of a first capture).
    @tf.function(autograph=False)
    def ascent(start, mask, filters, steps, rate, radius, jitter, taps, seed):
        TRACES[path] += 1  # Python side effect: runs only when TensorFlow traces

        def step(i, offset):  # the picture is clip(0.5 + offset); offset itself is left free
            shift = tf.random.stateless_uniform(
                [2], [seed, i], minval=-jitter, maxval=jitter + 1, dtype=tf.int32
            )
            pictures = tf.clip_by_value(0.5 + offset, 0.0, 1.0)
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(pictures)
                # Pictures do not interact, so the gradient of the sum is each picture's own.
                loss = tf.reduce_sum(measure(tf.roll(pictures, shift, axis=[1, 2]), filters))
            # The gradient at the clipped picture moves the free offset: a pixel at 0 or 1 is
            # still pushed, not released by the clip's zero gradient.
            grads = tape.gradient(loss, pictures)
            if blurred:
                grads = regularize.blur(grads, taps)
            grads = tf.math.l2_normalize(grads * mask, axis=axes)
            return i + 1, (1 - rate) * offset + rate * radius * grads

        _, offset = tf.while_loop(lambda i, _: i < steps, step, [tf.constant(0), start])
        return offset

    return ascent
