"""The compiled batched ascent behind `maximize_filters`: one function per layer and setting.

The batch dimension is the filters: picture i climbs filter `filters[i]`'s objective, and the
step loop runs inside the compiled function (`keras.ops.fori_loop`; on PyTorch, eager). `offset`
is the picture minus grey, left free (dual averaging); the picture is `clip(0.5 + offset, 0,
1)` and the gradient is taken there, so a pixel held at 0 or 1 keeps being pushed. Each step:
shift the picture by `(dy, dx)` in `[-jitter, jitter]` (a hash of the seed and the step: the
same shifts on every backend), take the gradient, blur it, zero it outside the mask, normalise
it per picture, and move `offset <- (1 - rate) * offset + rate * radius * g`.

The decorrelated ascent (deep units, `maximize.py`) climbs the parameters of `fourier.py`
instead: the picture is `0.5 + mask * (sigmoid(colour(irfft2(p * scale))) - 0.5)`, each step
resampled by `transforms.py` (a shift, a scale and a rotation about the unit's field centre)
before the network sees it, and `p` moves by Adam on the gradient normalised per picture (so
that no unit's weight scale meets Adam's epsilon; Lucid's optimiser; its per-coordinate
normalisation makes every frequency move at the same rate in `p`, so the picture's spectrum
keeps the 1/frequency scale). Its result is the offset `mask * (picture - 0.5)`.
"""

from __future__ import annotations

import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
from keras import ops

from convwatch.techniques import autodiff, fourier, regularize, transforms
from convwatch.techniques.extractor import feature_extractor

# model -> {(layer path, image shape, objective): _Compiled}.
_ASCENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
TRACES: Counter = Counter()  # layer path -> how often its ascent was traced (tests)
_BORDER = 2  # the channel objective skips 2 border pixels of the map, as keras.io does
_ADAM = (0.9, 0.999, 1e-8)  # beta1, beta2, epsilon


@dataclass
class _Compiled:
    """One layer's compiled functions for one image shape and objective (see `compiled_ascent`)."""

    extractor: Any
    measure: Any
    path: str
    shape: tuple
    centre: tuple
    n_filters: int
    score: Any
    sensitivity: Any
    pixel: dict = field(default_factory=dict)  # blurred or not -> ascent
    deep: Any = None

    def ascent(self, n_taps: int):
        """`ascent(start, mask, filters, steps, rate, radius, jitter, taps, seed) -> offset`."""
        blurred = n_taps > 1
        if blurred not in self.pixel:
            rank = len(self.shape)
            self.pixel[blurred] = _compile(self.measure, self.extractor, self.path, rank, blurred)
        return self.pixel[blurred]

    def decorrelated(self):
        """`ascent(start, mask, filters, steps, rate, jitter, max_scale, max_angle, centre,
        seed) -> offset`: the decorrelated ascent (the module docstring)."""
        if self.deep is None:
            spec = fourier.spectrum(self.shape)
            self.deep = _compile_deep(self.measure, self.extractor, self.path, spec)
        return self.deep


def compiled_ascent(
    model, path: str, shape: tuple, objective: str, centre, value_range=(0.0, 1.0)
) -> _Compiled:
    """The compiled functions of this layer and setting, built once and cached.

    `ascent(n_taps)` and `decorrelated()` give the two ascents; `score(pictures, filters) ->
    (F,)` is the objective (no gradient); `sensitivity(pictures, weights) -> gradient` the
    input gradient of `sum(weights * centre units)` (`weights` `(N, n_filters)`), for the
    effective receptive field. Functions of NumPy arrays. The objective is `"neuron"` (the
    unit at `centre`), `"channel"` (the map's mean without a 2-pixel border) or `"unit"` (a
    Dense unit), on the layer's pre-activation. Pictures are in [0, 1]; the network sees them
    stretched to `value_range` (0-255 for most keras.applications networks)."""
    per_model = _ASCENTS.setdefault(model, {})
    low, high = (float(v) for v in value_range)
    key = (path, shape, objective, low, high)
    if key not in per_model:
        sample = np.zeros((1, *shape), np.float32)
        extractor = feature_extractor(model, [path], sample, fast_grad=True, pre_activation=True)
        if (low, high) != (0.0, 1.0):
            extractor = _stretched(extractor, low, high)
        n_filters = extractor.outputs[0].shape[-1]
        measure = _objective(extractor, objective, centre, n_filters)
        per_model[key] = _Compiled(
            extractor=extractor,
            measure=measure,
            path=path,
            shape=shape,
            centre=tuple(centre),
            n_filters=n_filters,
            score=autodiff.compile_function(measure, [extractor]),
            sensitivity=autodiff.compile_function(_sensitivity(extractor, centre), [extractor]),
        )
    return per_model[key]


def _stretched(extractor, low: float, high: float):
    """`extractor` on pictures in [0, 1], mapped to `[low, high]` first."""
    inputs = keras.Input(tuple(extractor.inputs[0].shape[1:]))
    scaled = keras.layers.Rescaling(high - low, offset=low, name="value_range")(inputs)
    return keras.Model(inputs, extractor(scaled), name=f"{extractor.name}_stretched")


def _activation(extractor, pictures):
    return keras.tree.flatten(extractor(pictures, training=False))[0]


def _sensitivity(extractor, centre):
    def sensitivity(pictures, weights):
        def total(x):
            activation = _activation(extractor, x)
            if len(activation.shape) == 4:
                activation = activation[:, centre[0], centre[1]]
            return ops.sum(activation * weights), None

        return autodiff.gradient(total, pictures)[0]

    return sensitivity


def _objective(extractor, objective, centre, n_filters):
    """`(pictures (F, H, W, C), filters (F,)) -> (F,)`: what each picture's filter climbs."""

    def measure(pictures, filters):
        activation = _activation(extractor, pictures)
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


def _compile_deep(measure, extractor, path, spec):
    beta1, beta2, epsilon = _ADAM
    axes = tuple(range(1, len(spec.param_shape) + 1))

    def ascent(start, mask, filters, steps, rate, jitter, max_scale, max_angle, centre, seed):
        TRACES[path] += 1  # Python side effect: runs when the function is traced

        def picture(params):
            return 0.5 + mask * (spec.pictures(params) - 0.5)

        def step(i, carry):
            params, first, second = carry
            shift = step_shift(seed, i, jitter)
            scale, angle = transforms.step_transform(seed, i, max_scale, max_angle)

            def climb(p):
                moved = transforms.affine(picture(p), shift, scale, angle, centre)
                return ops.sum(measure(moved, filters)), None

            grads, _ = autodiff.gradient(climb, params)
            grads = _l2_normalize(grads, axes)  # a unit's scale never meets Adam's epsilon
            first = beta1 * first + (1 - beta1) * grads
            second = beta2 * second + (1 - beta2) * ops.square(grads)
            t = ops.cast(i + 1, "float32")
            unbiased = first / (1 - ops.power(beta1, t))
            spread = ops.sqrt(second / (1 - ops.power(beta2, t)))
            return params + rate * unbiased / (spread + epsilon), first, second

        zeros = ops.zeros_like(start)
        params, _, _ = ops.fori_loop(0, steps, step, (start, zeros, zeros))
        return picture(params) - 0.5

    return autodiff.compile_function(ascent, [extractor], static_shapes=True)


def _l2_normalize(x, axes):
    """`x / |x|` per picture, as `tf.math.l2_normalize` (a zero gradient stays zero)."""
    return x * ops.rsqrt(ops.maximum(ops.sum(ops.square(x), axis=axes, keepdims=True), 1e-12))
