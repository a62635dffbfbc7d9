"""Neural style transfer (Gatys et al., 2015): the layout of one image in the textures of another.

A network's deeper feature maps keep *what is where* (content); the Gram matrices of its feature
maps (how strongly each pair of channels fires together, summed over all positions) keep colours
and textures but not where they are (style). Starting from the content image (or noise), Adam
(Keras' update rule, written out so that its moments travel with the image) moves the pixels so
that the content layer matches the content image and the Gram matrices of the style layers
match the style image. The targets are computed once; the steps run `chunk` at a time inside
one compiled function (a `keras.ops.fori_loop`; `autodiff.py`: on every Keras backend),
compiled once per network, image size and border.

Both losses are relative, so the weights mean the same on any network: the content loss is
the mean squared difference between the content layer's maps of the image and of `content`,
divided by the mean square of the latter; the style loss is, averaged over the style layers,
the mean squared difference between the Gram matrices of the image and of `style`, divided
by the mean square of the latter. Each is 0 on a perfect match and about 1 when far off.
The total is `content_weight * content + style_weight * style + tv_weight * tv`, where `tv`
is the mean squared difference of neighbouring pixels (in units of the value range), which
smooths speckle (random filters leave a fine grid without it; 1.0 removes it without
blurring edges, 5 blurs). With the defaults on `random_multiscale_net` and sklearn's
china/flower photos at 192x128, the style loss falls from 1.0 to 0.18 in 300 steps while
the content loss rises to 0.22: clearly the content photo, in the style's colours and
texture, the same on every backend (25-40 s on 2 CPU cores with TensorFlow or PyTorch; JAX on
the CPU takes five times as long, in XLA's gradients of the large-kernel convolutions).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real

import keras
import numpy as np
from keras import ops

from convwatch.base.ranges import pixel_range
from convwatch.techniques import autodiff
from convwatch.techniques.any_size import any_size_extractor

# extractor -> {(content image shape, border): compiled chunk}; entries go with the extractor.
_CHUNKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_EPSILON = 1e-8  # Adam's usual constant (Keras' default is 1e-7)
_BETA_1, _BETA_2 = 0.9, 0.999  # Adam's (Keras' defaults)
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
    if ops.is_tensor(features):
        if len(features.shape) != 4:
            raise ValueError(f"`features` must be (N, H, W, C). Received: {features.shape}")
        shape = ops.shape(features)
        positions = ops.cast(shape[1] * shape[2], features.dtype)
        return ops.einsum("nhwc,nhwd->ncd", features, features) / positions
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
    targets = _targets(extractor, x, s, pad)
    run = _chunk_function(extractor, x.shape, pad, len(style_layers))
    start = x if init == "content" else _noise(x.shape, low, high, seed)
    constants = (
        np.asarray(float(learning_rate) * (high - low), np.float32),
        np.asarray(settings.weights, np.float32),
        np.asarray(low, np.float32),
        np.asarray(high, np.float32),
    )
    image, losses = _run_chunks(run, start[None], settings, targets, constants, progress)
    return StyleResult(
        image=image[0].astype(np.float32),
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
    """What the image is pulled towards, as NumPy: the content layer's maps of `content`, the
    style layers' Gram matrices of `style`, and the mean square of each (the losses'
    normalisers), as `(content target, scales, *style Gram matrices)`."""
    content_target = ops.convert_to_numpy(
        keras.tree.flatten(extractor(_mirror(content[None], pad), training=False))[0]
    )
    style_pad = min(pad, *(side - 1 for side in style.shape[:2]))
    style_maps = keras.tree.flatten(extractor(_mirror(style[None], style_pad), training=False))
    style_grams = [gram_matrix(ops.convert_to_numpy(f)) for f in style_maps[1:]]
    scales = [np.mean(np.square(content_target))] + [np.mean(np.square(g)) for g in style_grams]
    scales = np.maximum(np.asarray(scales, np.float32), _TINY)
    return (content_target.astype(np.float32), scales, *style_grams)


def _run_chunks(run, image, settings: StyleSettings, targets: tuple, constants: tuple, progress):
    """`settings.steps` Adam steps from `image`, `settings.chunk` per compiled call ->
    `(image, float32 (steps, 3) losses after each step)`; the moments carry over."""
    steps, chunk = int(settings.steps), int(settings.chunk)
    first, second = np.zeros_like(image), np.zeros_like(image)
    losses = []
    for done in range(0, steps, chunk):
        n = min(chunk, steps - done)
        buffer = np.zeros((n + 1, 3), np.float32)  # the losses go here
        image, first, second, history = run(
            image, first, second, np.asarray(done, np.float32), buffer, *constants, *targets
        )
        losses.append(history)
        if progress is not None:
            progress(done + n, steps, float(losses[-1][-1, 0]))
    return image, np.concatenate(losses).astype(np.float32)


def _mirror(images, pad: int):
    """`(N, H, W, C)` with `pad` mirrored pixels added on every side (`pad` < H and W)."""
    if not pad:
        return images
    return ops.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")


def _image(name: str, value) -> np.ndarray:
    x = np.asarray(value, dtype=np.float32)
    if x.ndim != 3 or x.size == 0:
        raise ValueError(f"`{name}` must be one (H, W, C) image. Received: {x.shape}")
    return x


def _loss_function(extractor, pad: int, n_style: int):
    """`losses_of(image, content_target, scales, weights, style_grams)` -> [total, content,
    style] for one `(1, H, W, C)` image."""

    def losses_of(image, content_target, scales, weights, style_grams):
        outputs = keras.tree.flatten(extractor(_mirror(image, pad), training=False))
        content = ops.mean(ops.square(outputs[0] - content_target)) / scales[0]
        style = 0.0
        for i, (f, g) in enumerate(zip(outputs[1:], style_grams, strict=True)):
            style = style + ops.mean(ops.square(gram_matrix(f) - g)) / scales[1 + i]
        style = style / float(n_style)
        dy = image[:, 1:] - image[:, :-1]
        dx = image[:, :, 1:] - image[:, :, :-1]
        tv = ops.mean(ops.square(dy)) + ops.mean(ops.square(dx))
        total = weights[0] * content + weights[1] * style + weights[2] * tv
        return ops.stack([total, content, style])

    return losses_of


def _chunk_function(extractor, shape: tuple[int, ...], pad: int, n_style: int):
    """`run(image, m, v, done, zeros (n + 1, 3), learning_rate, weights, low, high, content
    target, scales, *style Gram matrices)` -> `(image, m, v, (n, 3) losses after each step)`:
    n Adam steps on `image` after `done` earlier ones, clipped to [low, high] after each, in
    one compiled call; one per extractor, image shape and border."""
    per_extractor = _CHUNKS.setdefault(extractor, {})
    if (shape, pad) in per_extractor:
        return per_extractor[(shape, pad)]
    losses_of = _loss_function(extractor, pad, n_style)

    def run(image, m, v, done, history, learning_rate, weights, low, high, content, scales, *grams):
        def step(i, carry):
            image, m, v, history = carry

            def total(image):
                losses = losses_of(image, content, scales, weights, grams)
                return losses[0], losses

            grads, losses = autodiff.gradient(total, image)
            history = ops.slice_update(history, (i, 0), losses[None])
            t = done + ops.cast(i, "float32") + 1.0  # Keras' Adam, step t
            m = m + (grads - m) * (1 - _BETA_1)
            v = v + (ops.square(grads) - v) * (1 - _BETA_2)
            alpha = learning_rate * ops.sqrt(1 - _BETA_2**t) / (1 - _BETA_1**t)
            image = ops.clip(image - m * alpha / (ops.sqrt(v) + _EPSILON), low, high)
            return image, m, v, history

        n = ops.shape(history)[0] - 1
        image, m, v, history = ops.fori_loop(0, n, step, (image, m, v, history))
        last = losses_of(image, content, scales, weights, grams)
        history = ops.slice_update(history, (n, 0), last[None])
        return image, m, v, history[1:]  # the losses after each step

    picture = ((1, *shape), "float32")
    scalar = ((), "float32")
    signature = [picture, picture, picture, scalar, ((None, 3), "float32"), scalar]
    signature += [((3,), "float32"), scalar, scalar]
    channels = [out.shape[-1] for out in extractor.outputs]
    signature += [((1, None, None, channels[0]), "float32"), ((1 + n_style,), "float32")]
    signature += [((1, c, c), "float32") for c in channels[1:]]
    per_extractor[(shape, pad)] = autodiff.compile_function(run, [extractor], signature=signature)
    return per_extractor[(shape, pad)]
