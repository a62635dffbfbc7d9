"""Neural style transfer (Gatys et al., 2015): the layout of one image in the textures of another.

A network's deeper feature maps keep *what is where* (content); the Gram matrices of its feature
maps (how strongly each pair of channels fires together, summed over all positions) keep colours
and textures but not where they are (style). Starting from the content image (or noise), Adam
moves the pixels so that the content layer matches the content image and the Gram matrices of
the style layers match the style image. The targets are computed once; the steps run `chunk` at
a time inside one compiled graph (a `tf.range` loop with a hand-written Adam).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np
import tensorflow as tf

from convwatch.techniques.any_size import feature_extractor

# extractor -> compiled chunk of steps; entries go when the extractor is garbage-collected.
_CHUNKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BETA1, _BETA2, _EPSILON = 0.9, 0.999, 1e-8  # Adam's usual constants
_TINY = 1e-12  # keeps the loss normalisers away from zero on all-zero maps


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
    steps: int = 300,
    learning_rate: float = 0.02,
    content_weight: float = 1.0,
    style_weight: float = 1.0,
    tv_weight: float = 1.0,
    init: str = "content",
    value_range: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
    chunk: int = 50,
    progress: Callable[[int, int, float], object] | None = None,
    pad: int = 8,
) -> StyleResult:
    """Paint `content`'s layout with `style`'s colours and textures, by Adam on the pixels.

    Both losses are relative, so the weights mean the same on any network: the content loss is
    the mean squared difference between the content layer's maps of the image and of `content`,
    divided by the mean square of the latter; the style loss is, averaged over the style layers,
    the mean squared difference between the Gram matrices of the image and of `style`, divided
    by the mean square of the latter. Each is 0 on a perfect match and about 1 when far off.
    The total is `content_weight * content + style_weight * style + tv_weight * tv`, where `tv`
    is the mean squared difference of neighbouring pixels (in units of the value range), which
    smooths speckle (random filters leave a fine grid without it; 1.0 removes it without
    blurring edges, 5 blurs). With the defaults on `random_multiscale_net` and sklearn's
    china/flower photos at 192x128, the style loss falls from 1.6 to 0.12 in 300 steps while
    the content loss rises to 0.26: clearly the content photo, in the style's colours and
    texture (about 25 s on 2 CPU cores).

    Args:
        model: a built Keras 3 model taking `(N, H, W, C)` images in `value_range` (fixed-size
            chain models work at any size, see `any_size.py`).
        content: `(H, W, C)` image in `value_range`; the result has its shape.
        style: `(H', W', C)` image in `value_range`, any size.
        content_layer: layer whose maps carry the content.
        style_layers: layers whose Gram matrices carry the style.
        steps: Adam steps, >= 1. Defaults to 300.
        learning_rate: Adam's step, as a fraction of the value range. Defaults to 0.02.
        content_weight: weight of the content loss, >= 0. Defaults to 1.0.
        style_weight: weight of the style loss, >= 0. Defaults to 1.0.
        tv_weight: weight of the smoothness (total variation) loss, >= 0. Defaults to 1.0.
        init: `"content"` starts from the content image, `"noise"` from uniform noise.
            Defaults to `"content"`.
        value_range: `(low, high)` of the pixels; every step clips to it. Defaults to (0, 1).
        seed: seed of the noise for `init="noise"`. Defaults to 0.
        chunk: steps per compiled call, >= 1. Defaults to 50.
        progress: called as `progress(steps_done, steps, total_loss)` after each chunk.
        pad: pixels of mirrored border added around every image before the network sees it
            (at most the image's side - 1), so no pixel of the picture lies next to the
            network's zero padding, which otherwise paints a coloured seam along the edges.
            0 turns it off. Defaults to 8.

    Returns:
        A `StyleResult` with the image and the per-step losses.
    """
    low, high = (float(v) for v in value_range)
    if not low < high:
        raise ValueError(
            f"`value_range` must be (low, high) with low < high. Received: {value_range}"
        )
    x = _image("content", content)
    s = _image("style", style)
    if s.shape[-1] != x.shape[-1]:
        raise ValueError(
            f"`style` must have as many channels as `content` ({x.shape[-1]}). Received: {s.shape}"
        )
    check_style_settings(
        steps, learning_rate, content_weight, style_weight, tv_weight, init, chunk, pad
    )
    weights = (content_weight, style_weight, tv_weight)
    if isinstance(style_layers, str):
        style_layers = [style_layers]
    if not style_layers:
        raise ValueError(f"`style_layers` must name at least one layer. Received: {style_layers}")

    pad = min(int(pad), *(side - 1 for side in x.shape[:2]))
    extractor = feature_extractor(model, [content_layer, *style_layers])
    content_target = extractor(_mirror(x[None], pad), training=False)[0]
    style_pad = min(pad, *(side - 1 for side in s.shape[:2]))
    style_grams = [
        gram_matrix(f) for f in extractor(_mirror(s[None], style_pad), training=False)[1:]
    ]
    scales = [tf.reduce_mean(tf.square(content_target))]
    scales += [tf.reduce_mean(tf.square(g)) for g in style_grams]
    scales = tf.maximum(tf.stack(scales), _TINY)
    run = _compiled(extractor, len(style_layers), x.shape[-1])

    rng = np.random.default_rng(seed)
    start = x if init == "content" else rng.uniform(low, high, x.shape).astype(np.float32)
    image = tf.constant(start[None])
    moments = (tf.zeros_like(image), tf.zeros_like(image), tf.constant(0.0))
    constants = (
        content_target,
        tuple(style_grams),
        scales,
        tf.constant(weights, tf.float32),
        tf.constant(float(learning_rate) * (high - low), tf.float32),
        tf.constant(low, tf.float32),
        tf.constant(high, tf.float32),
    )
    losses = []
    for done in range(0, int(steps), int(chunk)):
        n = min(int(chunk), int(steps) - done)
        image, *state, chunk_losses = run(
            image, *moments, tf.constant(n), tf.constant(pad), *constants
        )
        moments = tuple(state)
        losses.append(chunk_losses.numpy())
        if progress is not None:
            progress(done + n, int(steps), float(losses[-1][-1, 0]))
    losses = np.concatenate(losses).astype(np.float32)
    return StyleResult(
        image=image[0].numpy().astype(np.float32),
        losses={name: losses[:, i] for i, name in enumerate(("total", "content", "style"))},
    )


def check_style_settings(
    steps: int = 300,
    learning_rate: float = 0.02,
    content_weight: float = 1.0,
    style_weight: float = 1.0,
    tv_weight: float = 1.0,
    init: str = "content",
    chunk: int = 50,
    pad: int = 8,
) -> None:
    """ValueError naming the first setting `style_transfer` cannot work with (callers check
    early, before any training)."""
    for name, value, least in (("steps", steps, 1), ("chunk", chunk, 1), ("pad", pad, 0)):
        if not isinstance(value, Real) or int(value) != value or value < least:
            raise ValueError(f"`{name}` must be an integer >= {least}. Received: {name}={value}")
    if init not in ("content", "noise"):
        raise ValueError(f"`init` must be 'content' or 'noise'. Received: init={init!r}")
    weights = (content_weight, style_weight, tv_weight)
    numbers = all(isinstance(w, Real) for w in (*weights, learning_rate))
    if not numbers or not all(np.isfinite(w) and w >= 0 for w in weights) or not learning_rate > 0:
        raise ValueError(
            "Weights must be >= 0 and learning_rate > 0. Received: "
            f"content_weight={content_weight}, style_weight={style_weight}, "
            f"tv_weight={tv_weight}, learning_rate={learning_rate}"
        )


def _mirror(images, pad):
    """`(N, H, W, C)` with `pad` mirrored pixels added on every side (`pad` < H and W)."""
    return tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")


def _image(name: str, value) -> np.ndarray:
    x = np.asarray(value, dtype=np.float32)
    if x.ndim != 3 or x.size == 0:
        raise ValueError(f"`{name}` must be one (H, W, C) image. Received: {x.shape}")
    return x


def _compiled(extractor, n_style: int, channels: int):
    """One compiled chunk of Adam steps per extractor, for images of any size."""
    if extractor in _CHUNKS:
        return _CHUNKS[extractor]
    content_channels = extractor.outputs[0].shape[-1]
    style_channels = [out.shape[-1] for out in extractor.outputs[1:]]

    def losses_of(image, pad, content_target, style_grams, scales, weights):
        """-> [total, content, style] for one `(1, H, W, C)` image."""
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

    image_spec = tf.TensorSpec((1, None, None, channels), tf.float32)
    scalar = tf.TensorSpec((), tf.float32)
    signature = [
        image_spec,
        image_spec,
        image_spec,
        scalar,
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((1, None, None, content_channels), tf.float32),
        tuple(tf.TensorSpec((1, c, c), tf.float32) for c in style_channels),
        tf.TensorSpec((1 + n_style,), tf.float32),
        tf.TensorSpec((3,), tf.float32),
        scalar,
        scalar,
        scalar,
    ]

    @tf.function(input_signature=signature)
    def run(
        image, m, v, t, steps, pad, content_target, style_grams, scales, weights, lr, low, high
    ):
        targets = (pad, content_target, style_grams, scales, weights)
        history = tf.TensorArray(tf.float32, size=steps + 1)
        for i in tf.range(steps):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(image)
                losses = losses_of(image, *targets)
                total = losses[0]  # sliced inside the tape, so the tape sees the slice
            history = history.write(i, losses)
            grad = tape.gradient(total, image)
            t += 1.0
            m = _BETA1 * m + (1.0 - _BETA1) * grad
            v = _BETA2 * v + (1.0 - _BETA2) * tf.square(grad)
            m_hat, v_hat = m / (1.0 - _BETA1**t), v / (1.0 - _BETA2**t)
            image = tf.clip_by_value(image - lr * m_hat / (tf.sqrt(v_hat) + _EPSILON), low, high)
        history = history.write(steps, losses_of(image, *targets))
        return image, m, v, t, history.stack()[1:]  # the losses after each step

    _CHUNKS[extractor] = run
    return run
