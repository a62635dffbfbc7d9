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

Deep units (receptive field above `regularize.DEEP_FIELD` = 40 px, the window clipped to the
image; never on a 28-32 px net, which keeps the pixel ascent above unchanged) get the
decorrelated ascent instead (`ascent.py`): the picture is a 1/frequency-scaled spectrum in
decorrelated colour through a sigmoid (`fourier.py`), shifted, scaled (0.9-1.1) and turned
(+-5 degrees) at random each step (`transforms.py`), climbed by Adam with a step of
`learning_rate` on the normalised gradient, from a seeded spectrum of standard deviation 0.01.
For the neuron objective the optimised region, and the jitter, are the unit's effective
receptive field (`regularize.effective_window`), measured each call from the input gradient
at grey. `contrast` and `blur` do not apply there (the sigmoid bounds the picture, the spectrum
scale damps high frequencies); a `target` still picks the faintest version. Measured on a
random-weight MobileNetV3Small at 128 px (its last stage, 8 filters, 30 steps): 2 s a call on
2 CPU cores (TensorFlow), after a 1.7 s first trace.

Filters run in chunks of `batch_size` pictures per compiled call, by default as many as fit
in 256 MB of forward and backward pass (`memory.py`): 3 for ResNet50V2 at 128 px.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from convwatch.base.ranges import pixel_range
from convwatch.techniques import fourier, regularize, transforms
from convwatch.techniques.ascent import TRACES, compiled_ascent
from convwatch.techniques.extractor import ensure_built
from convwatch.techniques.layers import filter_indices, resolve
from convwatch.techniques.memory import footprint
from convwatch.techniques.receptive_field import layer_grid
from convwatch.techniques.traced import example_shape

__all__ = ["LEVELS", "OBJECTIVES", "TRACES", "decorrelated", "maximize_filters"]
OBJECTIVES = ("neuron", "channel")
LEVELS = 16  # contrasts tried for a target
_PROBES = 4  # signed channel mixes whose gradient at grey gives the effective field


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
    batch_size: int | None = None,
    value_range: Sequence[float] = (0.0, 1.0),
) -> np.ndarray:
    """Input pictures that maximise each filter of `layer` (batched, compiled, regularised).

    Objectives, on the layer's pre-activation: `"neuron"` (default) climbs the centre unit of
    the map, optimising only its receptive field (the rest stays 0.5); `"channel"` the map's
    mean without a 2-pixel border; a Dense unit is its own. See the module docstring.

    Args:
        model: a Keras 3 model (Sequential, functional, nested; built or not).
        layer: a layer with a 4-D output (an activation layer is climbed on its input) or a
            Dense layer (canonical name or path, see `layers.py`).
        filters: indices of the filters/units. Defaults to all of them.
        objective: `"neuron"` or `"channel"`. Defaults to `"neuron"`.
        steps: ascent steps. Defaults to 30.
        learning_rate: fraction of the way to the decay's target each step, in (0, 1]; on a
            deep unit, Adam's step on the spectrum. Defaults to 0.1.
        contrast: the L2 decay's RMS distance from grey per pixel (pixel ascent). Defaults to 1.2.
        target: `(F,)` activations to reach (best exemplars'): each picture is then the
            faintest version of an ascent at `max_contrast` that reaches it. Defaults to None.
        max_contrast: the ascent's contrast when there is a target. Defaults to 4.0.
        jitter: random shift in pixels each step. Defaults to receptive field side // 16.
        blur: gradient blur sigma (pixel ascent). Defaults to receptive field side / 20.
        image_shape: `(H, W, C)`. Defaults to the model's input shape.
        seed: seed of the starting noise and the jitter. Defaults to 0.
        batch_size: pictures per compiled call. Defaults to what fits 256 MB (`memory.py`).
        value_range: the pixels the model takes; the network sees the pictures stretched
            from [0, 1] to it. Defaults to `(0, 1)`; 0-255 for keras.applications networks.

    Returns:
        float32 `(F, H, W, C)` in [0, 1], one picture per requested filter, in order.
    """
    _check_settings(objective, steps, learning_rate, contrast, max_contrast, batch_size)
    climb = _prepare(model, layer, objective, jitter, blur, image_shape, batch_size, value_range)
    chosen = filter_indices(filters, climb.n_filters, layer)
    target = _checked_target(target, chosen, climb.objective)
    strength = contrast if target is None else max_contrast
    offset = _chunked(
        lambda part: _ascend(climb, part, steps, learning_rate, strength, seed),
        chosen,
        climb.batch,
    )
    if target is None:
        return np.clip(0.5 + offset, 0.0, 1.0)
    return _faintest(offset, chosen, target, climb, max_contrast)


def _check_settings(objective, steps, learning_rate, contrast, max_contrast, batch_size):
    if objective not in (None, *OBJECTIVES):
        raise ValueError(f"objective must be one of {OBJECTIVES}. Received: {objective!r}")
    if batch_size is not None and int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1 or None. Received: {batch_size!r}")
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
    taps: np.ndarray  # the gradient blur's 1-D Gaussian (pixel ascent)
    compiled: Any  # ascent.compiled_ascent's functions
    n_filters: int
    batch: int  # pictures per compiled call
    deep: bool  # the decorrelated ascent (receptive field above regularize.DEEP_FIELD)
    centre: tuple[float, float]  # the optimised window's centre (the transforms' pivot)


def _prepare(model, layer, objective, jitter, blur, image_shape, batch_size, value_range) -> _Climb:
    """Resolve the layer, its objective, mask and regularisation, and its compiled ascent."""
    shape = _image_shape(model, image_shape)
    path = resolve(model, [layer])[0]
    grid = layer_grid(model, path, shape)
    objective = objective or "neuron"
    if grid.axes is None:
        objective = "unit"  # a Dense layer (or past a Flatten): unit f of a vector
    window = grid.window(*grid.centre)
    low, high = pixel_range(value_range)
    compiled = compiled_ascent(model, path, shape, objective, grid.centre, (low, high))
    if batch_size is None:
        batch_size = footprint(model, shape).gradient_batch()
    deep = _is_deep(window, shape)
    if deep and objective == "neuron":
        window = _effective_window(compiled, shape, window, int(batch_size))
    auto_jitter, auto_blur = regularize.default_regularization(window)
    mask = _mask(shape, window if objective == "neuron" else None)
    rows, cols = np.nonzero(mask[0, :, :, 0])
    return _Climb(
        shape=shape,
        objective=objective,
        mask=mask,
        jitter=auto_jitter if jitter is None else int(jitter),
        taps=regularize.gaussian_taps(auto_blur if blur is None else float(blur)),
        compiled=compiled,
        n_filters=compiled.n_filters,
        batch=int(batch_size),
        deep=deep,
        centre=((rows.min() + rows.max()) / 2, (cols.min() + cols.max()) / 2),
    )


def _effective_window(compiled, shape, window, batch: int):
    """The centre units' effective receptive field (`regularize.effective_window`): the input
    gradient of `_PROBES` seeded signed mixes of the layer's channels, at the grey picture."""
    count = max(1, min(_PROBES, batch))
    signs = np.random.default_rng(0).choice([-1.0, 1.0], size=(count, compiled.n_filters))
    grey = np.full((count, *shape), 0.5, np.float32)
    gradient = compiled.sensitivity(grey, signs.astype(np.float32))
    return regularize.effective_window(gradient, window)


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
    filters = chosen.astype(np.int32)
    if climb.deep:
        return climb.compiled.decorrelated()(
            fourier.spectrum(shape).start(chosen, seed),
            mask,
            filters,
            np.asarray(int(steps), np.int32),
            np.asarray(learning_rate, np.float32),
            np.asarray(max(0, climb.jitter), np.int32),
            np.asarray(transforms.MAX_SCALE, np.float32),
            np.asarray(transforms.MAX_ANGLE, np.float32),
            np.asarray(climb.centre, np.float32),
            np.asarray(int(seed), np.int32),
        )
    noise = np.random.default_rng(seed).uniform(size=(climb.n_filters, *shape))
    start = (noise.astype(np.float32)[chosen] - 0.5) * 0.25 * mask
    radius = strength * math.sqrt(float(mask.sum()) * shape[-1])
    return climb.compiled.ascent(len(climb.taps))(
        start,
        mask,
        filters,
        np.asarray(int(steps), np.int32),
        np.asarray(learning_rate, np.float32),
        np.asarray(radius, np.float32),
        np.asarray(max(0, climb.jitter), np.int32),
        climb.taps,
        np.asarray(int(seed), np.int32),
    )


def _chunked(run, items: np.ndarray, size: int) -> np.ndarray:
    """`run` over `items` in chunks of `size` (all at once when they fit), concatenated; a
    short last chunk is padded by repeating its last item, and the extras dropped."""
    if len(items) <= size:
        return run(items)
    parts = []
    for first in range(0, len(items), size):
        part = items[first : first + size]
        padded = np.concatenate([part, np.repeat(part[-1:], size - len(part))])
        parts.append(run(padded)[: len(part)])
    return np.concatenate(parts)


def _faintest(offset, filters, target, climb: _Climb, max_contrast) -> np.ndarray:
    """Per filter, the faintest of its pictures `0.5 + s * offset` that reaches its target."""
    scales = np.geomspace(0.1, max_contrast, LEVELS) / max_contrast
    family = np.clip(0.5 + scales.reshape(-1, *[1] * offset.ndim) * offset, 0.0, 1.0)
    family = family.astype(np.float32)  # (levels, F, H, W, C)
    flat = family.reshape(-1, *offset.shape[1:])
    wanted = np.tile(filters, LEVELS).astype(np.int32)
    scores = _chunked(
        lambda rows: climb.compiled.score(flat[rows], wanted[rows]),
        np.arange(len(flat)),
        2 * climb.batch,  # forward only: twice the gradient batch fits
    )
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


def decorrelated(model, layer: str, image_shape: Sequence[int] | None = None) -> bool:
    """True where `maximize_filters` optimises `layer`'s pictures as a Fourier spectrum (its
    centre unit's field, clipped to the image, is over `regularize.DEEP_FIELD` pixels)."""
    shape = _image_shape(model, image_shape)
    grid = layer_grid(model, resolve(model, [layer])[0], shape)
    return _is_deep(grid.window(*grid.centre), shape)


def _is_deep(window, shape) -> bool:
    return regularize.field_side(window, shape[:2]) > regularize.DEEP_FIELD


def _image_shape(model, image_shape) -> tuple[int, ...]:
    shape = example_shape(model, image_shape)
    ensure_built(model, np.zeros((1, *shape), np.float32))
    return shape
