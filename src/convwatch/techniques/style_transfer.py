"""Neural style transfer (Gatys et al., 2015): the layout of one image in the textures of another.

A network's deeper feature maps keep *what is where* (content); the Gram matrices of its feature
maps (how strongly each pair of channels fires together, summed over all positions) keep colours
and textures but not where they are (style). Starting from the content image (or noise), Adam
(`keras.optimizers.Adam`, on a `keras.Variable` holding the image) moves the pixels so that the
content layer matches the content image and the Gram matrices of the style layers match the
style image. The targets are computed once; the steps run `chunk` at a time inside one compiled
graph (a `tf.range` loop), compiled once per network and image size.

Both losses are relative, so the weights mean the same on any network: the content loss is
the mean squared difference between the content layer's maps of the image and of `content`,
divided by the mean square of the latter; the style loss is, averaged over the style layers,
the mean squared difference between the Gram matrices of the image and of `style`, divided
by the mean square of the latter. Each is 0 on a perfect match and about 1 when far off.
The total is `content_weight * content + style_weight * style + tv_weight * tv`, where `tv`
is the mean squared difference of neighbouring pixels (in units of the value range), which
smooths speckle (random filters leave a fine grid without it; 1.0 removes it without
blurring edges, 5 blurs). With the defaults on `random_multiscale_net` and sklearn's
china/flower photos at 192x128, the style loss falls from 1.6 to 0.13 in 300 steps while
the content loss rises to 0.26: clearly the content photo, in the style's colours and
texture (about 25-30 s on 2 CPU cores).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real

import keras
import numpy as np
import tensorflow as tf

from convwatch.base.ranges import pixel_range
from convwatch.techniques.any_size import any_size_extractor

# extractor -> {content image shape: _Stepper}; entries go when the extractor is collected.
_STEPPERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_EPSILON = 1e-8  # Adam's usual constant (Keras' default is 1e-7)
_TINY = 1e-12  # keeps the loss normalisers away from zero on all-zero maps
_INITS = ("content", "noise")


@dataclass(frozen=True)
class StyleSettings:
    """How a style transfer runs, with the defaults: the one source `style_transfer`, the
    `StyleTransfer` callback and the runner's early check all read. Making one checks it: a
    ValueError names the first setting `style_transfer` cannot work with.

    Attributes:
        steps: Adam steps, >= 1.
        learning_rate: Adam's step, as a fraction of the value range, > 0.
        content_weight: weight of the content loss, >= 0.
        style_weight: weight of the style loss, >= 0.
        tv_weight: weight of the smoothness (total variation) loss, >= 0.
        init: `"content"` starts from the content image, `"noise"` from uniform noise.
        chunk: steps per compiled call, >= 1.
        pad: pixels of mirrored border added around every image before the network sees it
            (at most the image's side - 1), so no pixel of the picture lies next to the
            network's zero padding, which otherwise paints a coloured seam along the edges.
            0 turns it off.
    """

    steps: int = 300
    learning_rate: float = 0.02
    content_weight: float = 1.0
    style_weight: float = 1.0
    tv_weight: float = 1.0
    init: str = "content"
    chunk: int = 50
    pad: int = 8

    def __post_init__(self) -> None:
        for name, least in (("steps", 1), ("chunk", 1), ("pad", 0)):
            value = getattr(self, name)
            if not isinstance(value, Real) or int(value) != value or value < least:
                raise ValueError(
                    f"`{name}` must be an integer >= {least}. Received: {name}={value}"
                )
        if self.init not in _INITS:
            raise ValueError(f"`init` must be 'content' or 'noise'. Received: init={self.init!r}")
        numbers = all(isinstance(w, Real) for w in (*self.weights, self.learning_rate))
        good = numbers and all(np.isfinite(w) and w >= 0 for w in self.weights)
        if not (good and self.learning_rate > 0):
            raise ValueError(
                "Weights must be >= 0 and learning_rate > 0. Received: "
                f"content_weight={self.content_weight}, style_weight={self.style_weight}, "
                f"tv_weight={self.tv_weight}, learning_rate={self.learning_rate}"
            )

    @property
    def weights(self) -> tuple[float, float, float]:
        """(content, style, tv) weights, in the order the loss stacks them."""
        return (self.content_weight, self.style_weight, self.tv_weight)


@dataclass(frozen=True)
class StyleResult:
    """What `style_transfer` returns.

    Attributes:
        image: float32 `(H, W, C)`, the content image's shape, in the value range.
        losses: float32 `(steps,)` arrays after each step: `"total"` (weighted sum, the
            objective), `"content"` and `"style"` (unweighted).
    """

    image: np.ndarray
    losses: dict[str, np.ndarray]


def gram_matrix(features):
    """Gram matrices: `(N, H, W, C)` -> `(N, C, C)`, `sum over positions of f f^T / (H * W)`.

    Dividing by the number of positions makes the Gram matrix of a texture the same for a small
    and a large crop of it. Tensors in, tensor out; anything else in, float32 numpy out.
    """
    if tf.is_tensor(features):
        if features.shape.rank != 4:
            raise ValueError(f"`features` must be (N, H, W, C). Received: {features.shape}")
        shape = tf.shape(features)
        positions = tf.cast(shape[1] * shape[2], features.dtype)
        return tf.einsum("nhwc,nhwd->ncd", features, features) / positions
    f = np.asarray(features, dtype=np.float32)
    if f.ndim != 4:
        raise ValueError(f"`features` must be (N, H, W, C). Received: {f.shape}")
    return (np.einsum("nhwc,nhwd->ncd", f, f) / (f.shape[1] * f.shape[2])).astype(np.float32)


def style_transfer(
    model,
    content,
    style,
    content_layer: str,
    style_layers: Sequence[str],
    steps: int = StyleSettings.steps,
    learning_rate: float = StyleSettings.learning_rate,
    content_weight: float = StyleSettings.content_weight,
    style_weight: float = StyleSettings.style_weight,
    tv_weight: float = StyleSettings.tv_weight,
    init: str = StyleSettings.init,
    value_range: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
    chunk: int = StyleSettings.chunk,
    progress: Callable[[int, int, float], object] | None = None,
    pad: int = StyleSettings.pad,
) -> StyleResult:
    """Paint `content`'s layout with `style`'s colours and textures, by Adam on the pixels.

    The losses, their weights and what the defaults give are in the module's docstring.

    Args:
        model: a built Keras 3 model taking `(N, H, W, C)` images in `value_range` (fixed-size
            chain models work at any size, see `any_size.py`).
        content: `(H, W, C)` image in `value_range`; the result has its shape.
        style: `(H', W', C)` image in `value_range`, any size.
        content_layer: layer whose maps carry the content.
        style_layers: layers whose Gram matrices carry the style.
        steps, learning_rate, content_weight, style_weight, tv_weight, init, chunk, pad: as
            `StyleSettings`, whose defaults they take.
        value_range: `(low, high)` of the pixels; every step clips to it. Defaults to (0, 1).
        seed: seed of the noise for `init="noise"`. Defaults to 0.
        progress: called as `progress(steps_done, steps, total_loss)` after each chunk.

    Returns:
        A `StyleResult` with the image and the per-step losses.
    """
    low, high = pixel_range(value_range)
    x, s = _pictures(content, style)
    settings = StyleSettings(
        steps, learning_rate, content_weight, style_weight, tv_weight, init, chunk, pad
    )
    style_layers = _layer_list(style_layers)
    extractor = any_size_extractor(model, [content_layer, *style_layers])
    pad = min(int(settings.pad), *(side - 1 for side in x.shape[:2]))
    targets = (tf.constant(pad), *_targets(extractor, x, s, pad))
    stepper = _stepper(extractor, x.shape, len(style_layers))
    start = x if init == "content" else _noise(x.shape, low, high, seed)
    stepper.reset(start[None], float(learning_rate) * (high - low))
    constants = (tf.constant(settings.weights, tf.float32), tf.constant(low), tf.constant(high))
    losses = _run_chunks(stepper, settings, (*targets, *constants), progress)
    return StyleResult(
        image=stepper.image.numpy()[0].astype(np.float32),
        losses={name: losses[:, i] for i, name in enumerate(("total", "content", "style"))},
    )


def _layer_list(style_layers: Sequence[str] | str) -> list[str]:
    layers = [style_layers] if isinstance(style_layers, str) else list(style_layers or ())
    if not layers:
        raise ValueError(f"`style_layers` must name at least one layer. Received: {style_layers}")
    return layers


def _noise(shape: tuple[int, ...], low: float, high: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


def _pictures(content, style) -> tuple[np.ndarray, np.ndarray]:
    """The content and style images as float32 `(H, W, C)`, with the same channels."""
    x = _image("content", content)
    s = _image("style", style)
    if s.shape[-1] != x.shape[-1]:
        raise ValueError(
            f"`style` must have as many channels as `content` ({x.shape[-1]}). Received: {s.shape}"
        )
    return x, s


def _targets(extractor, content: np.ndarray, style: np.ndarray, pad: int):
    """What the image is pulled towards: the content layer's maps of `content`, the style
    layers' Gram matrices of `style`, and the mean square of each (the losses' normalisers)."""
    content_target = extractor(_mirror(content[None], pad), training=False)[0]
    style_pad = min(pad, *(side - 1 for side in style.shape[:2]))
    style_grams = [
        gram_matrix(f) for f in extractor(_mirror(style[None], style_pad), training=False)[1:]
    ]
    scales = [tf.reduce_mean(tf.square(content_target))]
    scales += [tf.reduce_mean(tf.square(g)) for g in style_grams]
    return content_target, tuple(style_grams), tf.maximum(tf.stack(scales), _TINY)


def _run_chunks(stepper: _Stepper, settings: StyleSettings, arguments: tuple, progress):
    """`settings.steps` steps, `settings.chunk` per compiled call -> float32 `(steps, 3)`."""
    steps, chunk = int(settings.steps), int(settings.chunk)
    losses = []
    for done in range(0, steps, chunk):
        n = min(chunk, steps - done)
        losses.append(stepper.run(tf.constant(n), *arguments).numpy())
        if progress is not None:
            progress(done + n, steps, float(losses[-1][-1, 0]))
    return np.concatenate(losses).astype(np.float32)


def _mirror(images, pad):
    """`(N, H, W, C)` with `pad` mirrored pixels added on every side (`pad` < H and W)."""
    return tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")


def _image(name: str, value) -> np.ndarray:
    x = np.asarray(value, dtype=np.float32)
    if x.ndim != 3 or x.size == 0:
        raise ValueError(f"`{name}` must be one (H, W, C) image. Received: {x.shape}")
    return x


class _Stepper:
    """Adam steps on one image: a `keras.Variable` of it, a `keras.optimizers.Adam` built on
    it, and the compiled chunk of steps that uses both. The optimiser's moments have the
    image's shape, so there is one stepper per extractor and image size (`_stepper`), reset
    at the start of each transfer; its state carries over from one chunk to the next."""

    def __init__(self, extractor, shape: tuple[int, ...], n_style: int):
        self.image = keras.Variable(np.zeros((1, *shape), np.float32), name="image")
        self.optimizer = keras.optimizers.Adam(epsilon=_EPSILON)
        self.optimizer.build([self.image])
        self.run = _compiled(extractor, self.image, self.optimizer, n_style)

    def reset(self, start: np.ndarray, learning_rate: float) -> None:
        """Start from `start` `(1, H, W, C)` with fresh moments and step count."""
        for variable in self.optimizer.variables:
            variable.assign(tf.zeros_like(variable))
        self.optimizer.learning_rate = learning_rate
        self.image.assign(start)


def _stepper(extractor, shape: tuple[int, ...], n_style: int) -> _Stepper:
    per_size = _STEPPERS.setdefault(extractor, {})
    if shape not in per_size:
        per_size[shape] = _Stepper(extractor, shape, n_style)
    return per_size[shape]


def _loss_function(extractor, n_style: int):
    """`losses_of(image, pad, content_target, style_grams, scales, weights)` -> [total,
    content, style] for one `(1, H, W, C)` image."""

    def losses_of(image, pad, content_target, style_grams, scales, weights):
        outputs = extractor(_mirror(image, pad), training=False)
        content = tf.reduce_mean(tf.square(outputs[0] - content_target)) / scales[0]
        style = tf.add_n(
            [
                tf.reduce_mean(tf.square(gram_matrix(f) - g)) / scales[1 + i]
                for i, (f, g) in enumerate(zip(outputs[1:], style_grams, strict=True))
            ]
        ) / float(n_style)
        dy = image[:, 1:] - image[:, :-1]
        dx = image[:, :, 1:] - image[:, :, :-1]
        tv = tf.reduce_mean(tf.square(dy)) + tf.reduce_mean(tf.square(dx))
        total = weights[0] * content + weights[1] * style + weights[2] * tv
        return tf.stack([total, content, style])

    return losses_of


def _signature(extractor, n_style: int) -> list[tf.TensorSpec]:
    """The compiled chunk's arguments: steps, pad, the three targets, weights, low, high."""
    content_channels = extractor.outputs[0].shape[-1]
    style_channels = [out.shape[-1] for out in extractor.outputs[1:]]
    scalar = tf.TensorSpec((), tf.float32)
    return [
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((1, None, None, content_channels), tf.float32),
        tuple(tf.TensorSpec((1, c, c), tf.float32) for c in style_channels),
        tf.TensorSpec((1 + n_style,), tf.float32),
        tf.TensorSpec((3,), tf.float32),
        scalar,
        scalar,
    ]


def _compiled(extractor, image, optimizer, n_style: int):
    """`run(steps, pad, *targets, weights, low, high)`: `steps` Adam steps on `image`, clipped
    to [low, high] after each, in one graph -> `(steps, 3)` losses after each step."""
    losses_of = _loss_function(extractor, n_style)

    @tf.function(input_signature=_signature(extractor, n_style))
    def run(steps, pad, content_target, style_grams, scales, weights, low, high):
        targets = (pad, content_target, style_grams, scales, weights)
        history = tf.TensorArray(tf.float32, size=steps + 1)
        for i in tf.range(steps):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(image.value)
                losses = losses_of(image.value, *targets)
                total = losses[0]  # sliced inside the tape, so the tape sees the slice
            history = history.write(i, losses)
            optimizer.apply([tape.gradient(total, image.value)], [image])
            image.assign(tf.clip_by_value(image.value, low, high))
        history = history.write(steps, losses_of(image.value, *targets))
        return history.stack()[1:]  # the losses after each step

    return run
