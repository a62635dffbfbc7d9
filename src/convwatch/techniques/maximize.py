"""Gradient-ascent pictures of what each filter (or unit) of a layer responds to.

After keras.io's "Visualizing what convnets learn" (fchollet), batched: one compiled graph
optimises every filter's picture at once (`ascent.py`). Unlike keras.io, the climb is on the
layer's pre-activation (a filter that is off on the grey start still has a gradient), the
default objective is one unit (the centre of the map), not the channel mean (whose maximiser
for a first-layer filter is a frame, not the filter), and the picture is regularised:

- L2 decay toward grey: each step moves the picture's offset from grey a fraction
  `learning_rate` of the way toward `R * g / |g|`, `g` the gradient and
  `R = contrast * sqrt(pixels optimised)`. That is ascent with an L2 decay toward grey on a
  normalised gradient (keras.io normalises its steps too), so the contrast is set by the decay,
  not by the filter's weight scale: for a first-layer filter with kernel `w` the fixed point
  is `clip(0.5 + R * w / |w|, 0, 1)`, the kernel itself.
- jitter and a blur of the gradient that grow with the receptive field (`regularize.py`).
- for the neuron objective, only the unit's receptive field is optimised: the rest stays 0.5.

Each filter starts from grey with uniform noise (+-0.125, seeded; filter f always gets the same
start) inside the optimised region, then takes `steps` steps. All filters run through one
compiled function with the loop inside (`autodiff.py`: on every Keras backend), cached per
(model, layer, image shape, objective, blur kernel size): it traces once per number of filters,
never for new steps, rates, contrast, jitter or seed. On TensorFlow, first-layer convolutions
and max pooling use the faster, equal gradients of `fast_grad.py`.

The default contrast, 1.2, leaves about half the pixels at 0 or 1, as in real strokes. Measured
on the 30/15 MNIST net (10 epochs): pictures then excite their unit 1.00-1.2x as much as its best
patch of 2,000 training images, and conv1's correlate >= 0.85 with their kernels; at 0.3 they
correlate >= 0.99 but reach only 60-80% of the best patch.

With a `target` (activations to reach, e.g. each filter's best exemplar), the ascent runs at
`max_contrast`, and each filter's picture is the faintest of `LEVELS` versions of its result,
`clip(0.5 + s * offset, 0, 1)` with `offset` the ascent's distance from grey and s from
0.1 / `max_contrast` to 1 (geometric), whose objective reaches its target, or the strongest
when none does: as close to grey (for a first layer, to its kernel) as it can be while exciting
the unit as much as the data does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from convwatch.techniques import regularize
from convwatch.techniques.ascent import TRACES, compiled_ascent
from convwatch.techniques.extractor import ensure_built
from convwatch.techniques.layers import filter_indices, resolve
from convwatch.techniques.receptive_field import layer_grid
from convwatch.techniques.traced import example_shape

__all__ = ["LEVELS", "OBJECTIVES", "TRACES", "maximize_filters"]
OBJECTIVES = ("neuron", "channel")
LEVELS = 16  # contrasts tried for a target


def maximize_filters(
    model,
    layer: str,
    filters: Sequence[int] | None = None,
    objective: str | None = None,
    steps: int = 30,
    learning_rate: float = 0.1,
    contrast: float = 1.2,
    target=None,
    max_contrast: float = 4.0,
    jitter: int | None = None,
    blur: float | None = None,
    image_shape: Sequence[int] | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Input pictures that maximise each filter of `layer` (batched, compiled, regularised).

    Objectives, on the layer's pre-activation: `"neuron"` (the default for conv layers) climbs
    the unit at the centre of the map, `((h - 1) // 2, (w - 1) // 2)`, optimising only its
    receptive field (every pixel outside it stays 0.5); `"channel"` climbs the map's mean
    without a 2-pixel border (keras.io's) over the whole picture. A Dense layer's unit f is
    always its own objective. The start, the step and the compiled graph: the module
    docstring. On every Keras backend.

    Args:
        model: a Keras 3 model (Sequential, functional, nested; built or not).
        layer: name of a Conv2D or Dense layer (canonical name or path, see `layers.py`).
        filters: indices of the filters/units. Defaults to all of them.
        objective: `"neuron"` or `"channel"`. Defaults to `"neuron"`.
        steps: ascent steps. Defaults to 30 (with the default rate, 4% of the start is left).
        learning_rate: fraction of the way to the decay's target each step, in (0, 1].
            Defaults to 0.1.
        contrast: root-mean-square distance from grey per optimised pixel at which the L2
            decay balances the gradient, before clipping to [0, 1]. Defaults to 1.2.
        target: `(F,)` activations to reach (`top_exemplars(...).activation[:, 0]`), for the
            neuron and unit objectives: each picture is then the faintest version of an
            ascent at `max_contrast` that reaches it (the module docstring). Defaults to None.
        max_contrast: the ascent's contrast when there is a target. Defaults to 4.0.
        jitter: pixels the picture is shifted by at random, each step. Defaults to
            `receptive field side // 16` (`regularize.py`): 0 below 16 pixels.
        blur: standard deviation in pixels of the Gaussian the gradient is blurred with.
            Defaults to `receptive field side / 20`; below 0.3 no blur.
        image_shape: `(H, W, C)` of the pictures. Defaults to the model's input shape;
            required when the model has none (a Sequential model never called).
        seed: seed of the starting noise and the jitter. Defaults to 0.

    Returns:
        float32 `(F, H, W, C)` in [0, 1], one picture per requested filter, in order.
    """
    _check_settings(objective, steps, learning_rate, contrast, max_contrast)
    climb = _prepare(model, layer, objective, jitter, blur, image_shape)
    chosen = filter_indices(filters, climb.n_filters, layer)
    target = _checked_target(target, chosen, climb.objective)
    strength = contrast if target is None else max_contrast
    offset = _ascend(climb, chosen, steps, learning_rate, strength, seed)
    if target is None:
        return np.clip(0.5 + offset, 0.0, 1.0)
    return _faintest(offset, chosen, target, climb.score, max_contrast)


def _check_settings(objective, steps, learning_rate, contrast, max_contrast) -> None:
    if objective not in (None, *OBJECTIVES):
        raise ValueError(f"objective must be one of {OBJECTIVES}. Received: {objective!r}")
    if not 0 < learning_rate <= 1 or min(contrast, max_contrast) <= 0 or steps < 1:
        raise ValueError(
            "learning_rate must be in (0, 1], contrast and max_contrast > 0 and steps >= 1. "
            f"Received: {learning_rate=}, {contrast=}, {max_contrast=}, {steps=}"
        )


@dataclass(frozen=True)
class _Climb:
    """One layer's compiled ascent and the settings it runs with, before choosing filters."""

    shape: tuple[int, ...]  # (H, W, C) of the pictures
    objective: str  # "neuron", "channel" or "unit" (a Dense layer)
    mask: np.ndarray  # (1, H, W, 1): 1 on the pixels optimised
    jitter: int
    taps: np.ndarray  # the gradient blur's 1-D Gaussian
    ascent: Any  # compiled_ascent's ascent(...) -> offset
    score: Any  # compiled_ascent's score(pictures, filters) -> (F,)
    n_filters: int


def _prepare(model, layer, objective, jitter, blur, image_shape) -> _Climb:
    """Resolve the layer, its objective, mask and regularisation, and its compiled ascent."""
    shape = _image_shape(model, image_shape)
    path = resolve(model, [layer])[0]
    grid = layer_grid(model, path, shape)
    objective = objective or "neuron"
    if grid.axes is None:
        objective = "unit"  # a Dense layer (or past a Flatten): unit f of a vector
    window = grid.window(*grid.centre)
    auto_jitter, auto_blur = regularize.default_regularization(window)
    taps = regularize.gaussian_taps(auto_blur if blur is None else float(blur))
    ascent, score, n_filters = compiled_ascent(
        model, path, shape, objective, grid.centre, len(taps)
    )
    return _Climb(
        shape=shape,
        objective=objective,
        mask=_mask(shape, window if objective == "neuron" else None),
        jitter=auto_jitter if jitter is None else int(jitter),
        taps=taps,
        ascent=ascent,
        score=score,
        n_filters=n_filters,
    )


def _checked_target(target, chosen: np.ndarray, objective: str) -> np.ndarray | None:
    """`target` as float32 `(F,)`, one per chosen filter; only for a neuron or unit objective."""
    if target is None:
        return None
    target = np.asarray(target, np.float32).reshape(-1)
    if target.shape != chosen.shape or objective == "channel":
        raise ValueError(
            "target needs one activation per filter and the neuron or unit objective. "
            f"Received: {target.shape[0]} targets for {chosen.size} filters, {objective=}"
        )
    return target


def _ascend(climb: _Climb, chosen, steps, learning_rate, strength, seed) -> np.ndarray:
    """Run the compiled ascent from each chosen filter's seeded start; its offsets from grey."""
    shape, mask = climb.shape, climb.mask
    noise = np.random.default_rng(seed).uniform(size=(climb.n_filters, *shape))
    start = (noise.astype(np.float32)[chosen] - 0.5) * 0.25 * mask
    radius = strength * math.sqrt(float(mask.sum()) * shape[-1])
    return climb.ascent(
        start,
        mask,
        chosen.astype(np.int32),
        np.asarray(int(steps), np.int32),
        np.asarray(learning_rate, np.float32),
        np.asarray(radius, np.float32),
        np.asarray(max(0, climb.jitter), np.int32),
        climb.taps,
        np.asarray(int(seed), np.int32),
    )


def _faintest(offset, filters, target, score, max_contrast) -> np.ndarray:
    """Per filter, the faintest of its pictures `0.5 + s * offset` that reaches its target."""
    scales = np.geomspace(0.1, max_contrast, LEVELS) / max_contrast
    family = np.clip(0.5 + scales.reshape(-1, *[1] * offset.ndim) * offset, 0.0, 1.0)
    family = family.astype(np.float32)  # (levels, F, H, W, C)
    flat = family.reshape(-1, *offset.shape[1:])
    scores = score(flat, np.tile(filters, LEVELS).astype(np.int32))
    reached = scores.reshape(LEVELS, -1) >= target
    level = np.where(reached.any(axis=0), reached.argmax(axis=0), LEVELS - 1)
    return family[level, np.arange(len(filters))]


def _mask(shape, window) -> np.ndarray:
    """`(1, H, W, 1)`: 1 on the pixels optimised (the window clipped to the image, or all)."""
    mask = np.zeros((1, shape[0], shape[1], 1), np.float32)
    if window is None:
        mask[:] = 1.0
    else:
        top, left, height, width = window
        mask[:, max(top, 0) : max(top + height, 0), max(left, 0) : max(left + width, 0)] = 1.0
    return mask


def _image_shape(model, image_shape) -> tuple[int, ...]:
    shape = example_shape(model, image_shape)
    ensure_built(model, np.zeros((1, *shape), np.float32))
    return shape
