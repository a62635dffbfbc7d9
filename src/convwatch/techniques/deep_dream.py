"""Deep Dream (Mordvintsev et al., 2015): change an image so that chosen layers fire harder.

Gradient ascent on the pixels of a real image, after keras.io's "Deep Dream" (fchollet): the
objective is the mean squared activation of some layers, the step is the gradient divided by its
mean absolute value, and the image is processed at a few growing sizes ("octaves") so that the
patterns come at several scales. Between octaves the dream is upscaled and the detail that
shrinking took out of the original is put back. Each octave's steps run inside one compiled
function (a `keras.ops.fori_loop`; `autodiff.py`: on every Keras backend), shared by every image
size (on JAX, compiled once per size).
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real

import keras
import numpy as np
from keras import ops

from convwatch.base.ranges import pixel_range
from convwatch.techniques import autodiff
from convwatch.techniques.any_size import any_size_extractor
from convwatch.techniques.layers import find_layers

# extractor -> compiled octave; entries go when the extractor (and so the model) is collected.
_OCTAVES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
TRACES: Counter = Counter()  # "octave" -> how often an octave was traced (tests)
_BORDER = 2  # keras.io leaves 2 border pixels of each map out of the loss: no edge artifacts


@dataclass(frozen=True)
class DreamSettings:
    """How a Deep Dream runs, with the defaults: the one source `deep_dream`, the `DeepDream`
    callback and the runner's early check all read. Making one checks it: a ValueError names
    the first setting `deep_dream` cannot work with, so callers build it before any training.

    Attributes:
        octaves: number of image sizes, >= 1.
        octave_scale: size ratio between octaves, > 1 when `octaves > 1`.
        steps: gradient-ascent steps per octave, >= 1.
        step_size: mean pixel change per step, as a fraction of the value range (keras.io's
            0.01 on its [-1, 1] images).
    """

    octaves: int = 3
    octave_scale: float = 1.4
    steps: int = 20
    step_size: float = 0.005

    def __post_init__(self) -> None:
        octaves, scale, steps, step_size = (
            self.octaves,
            self.octave_scale,
            self.steps,
            self.step_size,
        )
        if not _is_count(octaves):
            raise ValueError(f"`octaves` must be an integer >= 1. Received: octaves={octaves}")
        if octaves > 1 and not (isinstance(scale, Real) and scale > 1):
            raise ValueError(
                f"`octave_scale` must be > 1 when octaves > 1. Received: octave_scale={scale}"
            )
        if not _is_count(steps):
            raise ValueError(f"`steps` must be an integer >= 1. Received: steps={steps}")
        if not isinstance(step_size, Real) or not step_size > 0:
            raise ValueError(f"`step_size` must be > 0. Received: step_size={step_size}")


def _is_count(value: object) -> bool:
    return isinstance(value, Real) and int(value) == value and value >= 1


def deep_dream(
    model,
    image,
    layers: Sequence[str] | str | None = None,
    octaves: int = DreamSettings.octaves,
    octave_scale: float = DreamSettings.octave_scale,
    steps: int = DreamSettings.steps,
    step_size: float = DreamSettings.step_size,
    value_range: tuple[float, float] = (0.0, 1.0),
    layer_weights: Sequence[float] | None = None,
    return_losses: bool = False,
):
    """Amplify what `layers` see in `image` by gradient ascent on its pixels, over octaves.

    The loss of an image is the sum over layers of `weight * mean(activation ** 2)`, without a
    2-pixel border of each feature map larger than 4x4. Octave k of n works on the image
    resized to `original / octave_scale ** (n - 1 - k)`; each of its `steps` adds
    `step_size * (high - low) * gradient / mean(|gradient|)` (so pixels move by about
    `step_size` of the value range per step, whatever the network) and clips to `value_range`.
    Fixed-size models (e.g. a 28x28 classifier) work at every octave size: their layers are
    replayed on inputs of any size (`any_size.py`). On every Keras backend.

    Args:
        model: a built Keras 3 model taking `(N, H, W, C)` images in `value_range`.
        image: `(H, W, C)` or `(N, H, W, C)` floats in `value_range`.
        layers: layer name(s) to amplify. Defaults to the model's last convolution layer.
        octaves, octave_scale, steps, step_size: as `DreamSettings`, whose defaults they take
            (3, 1.4, 20 and 0.005).
        value_range: `(low, high)` of the pixels. Defaults to (0.0, 1.0).
        layer_weights: one weight per layer. Defaults to 1.0 each.
        return_losses: also return the loss after each step. Defaults to False.

    Returns:
        float32 dream of `image`'s shape, in `value_range`; with `return_losses=True` also the
        float32 `(octaves * steps,)` loss after each step (the mean over a batch), octaves
        concatenated.
    """
    value_range = pixel_range(value_range)
    x = np.asarray(image, dtype=np.float32)
    if x.ndim not in (3, 4) or x.size == 0:
        raise ValueError(f"`image` must be (H, W, C) or (N, H, W, C). Received: {x.shape}")
    settings = DreamSettings(octaves, octave_scale, steps, step_size)
    names = _layer_names(model, layers)
    weights = _weights(names, layer_weights)
    batch = x if x.ndim == 4 else x[None]
    extractor = _extractor_for(model, names, batch, x.shape)
    sizes = _octave_sizes(batch.shape[1:3], settings.octaves, settings.octave_scale)
    _check_smallest(extractor, names, sizes[0], batch.shape[-1])
    octave = _compiled(extractor, len(names), batch.shape[-1])
    dream, losses = _dream_octaves(octave, batch, sizes, settings, weights, value_range)
    result = dream.reshape(x.shape).astype(np.float32)
    if not return_losses:
        return result
    return result, losses.mean(axis=1).astype(np.float32)


def _extractor_for(model, names: list[str], batch: np.ndarray, shape: tuple) -> keras.Model:
    """The any-size extractor of `names`, after checking the images' channels fit it."""
    extractor = any_size_extractor(model, names)
    channels = extractor.inputs[0].shape[-1]
    if batch.shape[-1] != channels:
        raise ValueError(
            f"`image` must have {channels} channels for model {model.name!r}. Received: {shape}"
        )
    return extractor


def _dream_octaves(octave, batch, sizes, settings: DreamSettings, weights, value_range):
    """Run the compiled `octave` at each size, smallest first -> (dream, (steps total, N))."""
    low, high = value_range
    original = batch
    dream, losses = _resize(original, sizes[0]), []
    for k, size in enumerate(sizes):
        if k:
            # Upscale the dream and put back the detail shrinking took out of the original.
            lost = _resize(original, size) - _resize(_resize(original, sizes[k - 1]), size)
            dream = np.clip(_resize(dream, size) + lost, low, high)
        dream, loss = octave(
            dream,
            np.zeros((int(settings.steps) + 1, len(batch)), np.float32),  # the losses go here
            np.asarray(float(settings.step_size) * (high - low), np.float32),
            weights,
            np.asarray(low, np.float32),
            np.asarray(high, np.float32),
        )
        losses.append(loss)
    return dream, np.concatenate(losses)


def _layer_names(model, layers) -> list[str]:
    if layers is None:
        convs = find_layers(model, ("conv",))
        if not convs:
            raise ValueError(f"Model {model.name!r} has no convolution layer; pass `layers`.")
        return [convs[-1]]
    return [layers] if isinstance(layers, str) else list(layers)


def _weights(names: list[str], layer_weights) -> np.ndarray:
    if layer_weights is None:
        return np.ones(len(names), np.float32)
    weights = np.asarray(layer_weights, dtype=np.float32).reshape(-1)
    if weights.shape != (len(names),) or not np.all(np.isfinite(weights)):
        raise ValueError(
            f"`layer_weights` needs one finite weight per layer ({len(names)}). "
            f"Received: layer_weights={layer_weights}"
        )
    return weights


def _octave_sizes(size, octaves: int, scale: float) -> list[tuple[int, int]]:
    """Image sizes from the smallest octave to the original."""
    sizes = [
        tuple(max(1, round(d / scale**k)) for d in size) for k in reversed(range(int(octaves)))
    ]
    return [(int(h), int(w)) for h, w in sizes]


def _check_smallest(extractor, names, size, channels) -> None:
    """ValueError if some layer's map is empty at the smallest octave (its loss would be NaN)."""
    advice = "Use fewer octaves, a smaller octave_scale or a bigger image."
    try:
        specs = extractor.compute_output_spec(keras.KerasTensor((1, *size, channels)))
    except ValueError as error:  # Keras refuses maps of size 0 in some layers
        raise ValueError(
            f"The smallest octave ({size[0]}x{size[1]}) is too small for layers {names}: "
            f"{error} {advice}"
        ) from None
    for name, spec in zip(names, keras.tree.flatten(specs), strict=True):
        if any(d is not None and d < 1 for d in spec.shape[1:]):
            raise ValueError(
                f"The smallest octave ({size[0]}x{size[1]}) is too small for layer {name!r} "
                f"(output {tuple(spec.shape)}). {advice}"
            )


def _resize(images, size):
    """Bilinear resize of a NumPy batch, as `tf.image.resize` does on every backend."""
    resized = ops.image.resize(images, size, interpolation="bilinear")
    return ops.convert_to_numpy(resized).astype(np.float32)


def _compiled(extractor, n_layers: int, channels: int):
    """One compiled octave per extractor: `(images, zeros (steps + 1, N), step, weights, low,
    high)` -> `(images after the steps, (steps, N) loss after each step)`; any image size and
    number of steps, one trace on TensorFlow (JAX compiles once per size and number)."""
    if extractor in _OCTAVES:
        return _OCTAVES[extractor]

    def loss_of(images, weights):
        """(N, H, W, C) -> (N,): weighted sum over layers of the mean squared activation."""
        outputs = keras.tree.flatten(extractor(images, training=False))
        total = 0.0
        for i, activation in enumerate(outputs):
            total += weights[i] * _mean_square(activation)
        return total

    def octave(images, losses, step, weights, low, high):
        TRACES["octave"] += 1  # Python side effect: runs when the function is traced
        axes = (1, 2, 3)

        def one_step(i, carry):
            images, losses = carry

            def total(images):  # images do not interact: each gets its own gradient
                loss = loss_of(images, weights)
                return ops.sum(loss), loss

            grads, loss = autodiff.gradient(total, images)
            losses = ops.slice_update(losses, (i, 0), loss[None])
            grads /= ops.maximum(ops.mean(ops.abs(grads), axis=axes, keepdims=True), 1e-6)
            return ops.clip(images + step * grads, low, high), losses

        steps = ops.shape(losses)[0] - 1
        images, losses = ops.fori_loop(0, steps, one_step, (images, losses))
        losses = ops.slice_update(losses, (steps, 0), loss_of(images, weights)[None])
        return images, losses[1:]  # the loss after each step

    signature = [
        ((None, None, None, channels), "float32"),
        ((None, None), "float32"),
        ((), "float32"),
        ((n_layers,), "float32"),
        ((), "float32"),
        ((), "float32"),
    ]
    octave = autodiff.compile_function(octave, [extractor], signature=signature)
    _OCTAVES[extractor] = octave
    return octave


def _mean_square(activation):
    """(N, ...) -> (N,): mean of the squares, without the map's border when it is big enough."""
    rank = len(activation.shape)
    axes = tuple(range(1, rank))
    if rank != 4:
        return ops.mean(ops.square(activation), axis=axes)
    height, width = activation.shape[1:3]
    if height is not None and width is not None:  # known when compiled: no branch needed
        if min(height, width) > 2 * _BORDER:
            activation = activation[:, _BORDER:-_BORDER, _BORDER:-_BORDER]
        return ops.mean(ops.square(activation), axis=axes)
    shape = ops.shape(activation)
    return ops.cond(
        ops.minimum(shape[1], shape[2]) > 2 * _BORDER,
        lambda: ops.mean(ops.square(activation[:, _BORDER:-_BORDER, _BORDER:-_BORDER]), axes),
        lambda: ops.mean(ops.square(activation), axis=axes),
    )
