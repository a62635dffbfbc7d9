"""Gradient-ascent pictures of what each filter (or unit) of a layer responds to.

After keras.io's "Visualizing what convnets learn" (fchollet), batched: the batch dimension is
the filters, so one compiled graph optimises every filter's image at once, and the step loop
runs inside the graph instead of one Python call per step per filter.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from convwatch.techniques.extractor import ensure_built, feature_extractor
from convwatch.techniques.layers import resolve

# model -> {(layer path, image shape): compiled ascent}; and how often each was traced (tests).
_ASCENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
TRACES: Counter = Counter()
_BORDER = 2  # keras.io skips 2 border pixels of the feature map to avoid border artifacts


def maximize_filters(
    model,
    layer: str,
    filters: Sequence[int] | None = None,
    steps: int = 30,
    learning_rate: float = 10.0,
    image_shape: Sequence[int] | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Input images that maximise the mean activation of each filter of `layer`.

    For each filter f, start from grey uniform noise (0.5 +- 0.125, seeded; filter f always gets
    the same start whatever other filters are asked for) and take `steps` gradient-ascent steps
    on the input, each of L2 norm `learning_rate` (the gradient is normalised per image). The
    objective is the mean of channel f of a Conv2D feature map, without a 2-pixel border when
    the map is larger than 4x4, or the activation of unit f of a Dense layer. Each image is then
    deprocessed like keras.io: centred, scaled to standard deviation 0.15, shifted to 0.5 and
    clipped to [0, 1].

    All filters run as one batch through one compiled `tf.function` with the step loop inside,
    cached per (model, layer, image shape): it traces once per number of filters asked for,
    then never again (steps, learning rate and seed do not retrace). First-layer convolutions
    and max pooling back-propagate through faster, equal gradients (`fast_grad.py`).

    Uses `tf.GradientTape`: TensorFlow backend only.

    Args:
        model: a Keras 3 model (Sequential, functional, nested; built or not).
        layer: name of a Conv2D or Dense layer (canonical name or path, see `layers.py`).
        filters: indices of the filters/units. Defaults to all of them.
        steps: gradient-ascent steps. Defaults to 30.
        learning_rate: L2 norm of each step. Defaults to 10.0.
        image_shape: `(H, W, C)` of the images. Defaults to the model's input shape; required
            when the model has none (a Sequential model never called).
        seed: seed of the starting noise. Defaults to 0.

    Returns:
        float32 array `(F, H, W, C)` in [0, 1], one image per requested filter, in order.
    """
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("maximize_filters needs the TensorFlow backend (tf.GradientTape).")
    shape = _image_shape(model, image_shape)
    path = resolve(model, [layer])[0]
    ascent, n_filters = _ascent(model, path, shape)
    chosen = np.arange(n_filters) if filters is None else np.asarray(filters, dtype=np.int64)
    if chosen.ndim != 1 or chosen.size == 0 or chosen.min() < 0 or chosen.max() >= n_filters:
        raise ValueError(
            f"Layer {layer!r} has {n_filters} filters (0..{n_filters - 1}). Received: "
            f"filters={filters}"
        )
    noise = np.random.default_rng(seed).uniform(size=(n_filters, *shape)).astype(np.float32)
    start = 0.5 + (noise[chosen] - 0.5) * 0.25
    images = ascent(
        tf.constant(start),
        tf.constant(chosen, tf.int32),
        tf.constant(int(steps), tf.int32),
        tf.constant(float(learning_rate), tf.float32),
    ).numpy()
    return deprocess(images)


def deprocess(images: np.ndarray) -> np.ndarray:
    """keras.io's deprocess_image, per image: `(F, H, W, C)` -> float32 in [0, 1]."""
    axes = tuple(range(1, images.ndim))
    images = images - images.mean(axis=axes, keepdims=True)
    images = images / (images.std(axis=axes, keepdims=True) + 1e-5) * 0.15
    return np.clip(images + 0.5, 0.0, 1.0).astype(np.float32)


def _image_shape(model, image_shape) -> tuple[int, ...]:
    if image_shape is not None:
        shape = tuple(int(d) for d in image_shape)
        ensure_built(model, np.zeros((1, *shape), np.float32))
        return shape
    try:
        shape = tuple(model.inputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError):
        shape = ()
    if not shape or None in shape:
        raise ValueError(
            f"Model {model.name!r} has no fixed input shape; pass image_shape=(H, W, C)."
        )
    return shape


def _ascent(model, path: str, shape: tuple[int, ...]):
    """The compiled ascent for (model, layer, image shape) and the layer's number of filters."""
    per_model = _ASCENTS.setdefault(model, {})
    if (path, shape) not in per_model:
        extractor = feature_extractor(
            model, [path], sample=np.zeros((1, *shape), np.float32), fast_grad=True
        )
        out_shape = tuple(extractor.outputs[0].shape)
        per_model[path, shape] = (_compile(extractor, path, shape, out_shape), out_shape[-1])
    return per_model[path, shape]


def _compile(extractor, path, shape, out_shape):
    rank = len(out_shape)
    border = _BORDER if rank == 4 and min(out_shape[1:3]) > 2 * _BORDER else 0
    image_axes = list(range(1, len(shape) + 1))

    def mean_activation(images, filters):
        """(F, H, W, C) images -> (F,): mean activation of filter filters[i] on image i."""
        activation = keras.tree.flatten(extractor(images, training=False))[0]
        # Channel filters[i] of image i, as a one-hot product: its gradient is a product too
        # (a batched gather's gradient costs two transposes and a segment sum per step).
        mask = tf.one_hot(filters, out_shape[-1], dtype=activation.dtype)
        mask = tf.reshape(mask, [-1] + [1] * (rank - 2) + [out_shape[-1]])
        activation = tf.reduce_sum(activation * mask, axis=-1)
        if border:
            activation = activation[:, border:-border, border:-border]
        return tf.reduce_mean(activation, axis=list(range(1, activation.shape.rank)))

    # No input_signature: static batch shapes let Grappler fold the shape arithmetic (~10-30%
    # faster per step), at the price of one trace per number of filters (then reused).
    @tf.function
    def ascent(images, filters, steps, learning_rate):
        TRACES[path] += 1  # Python side effect: runs only when TensorFlow traces
        for _ in tf.range(steps):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(images)
                # Images do not interact, so the gradient of the sum is each image's own.
                loss = tf.reduce_sum(mean_activation(images, filters))
            grads = tf.math.l2_normalize(tape.gradient(loss, images), axis=image_axes)
            images = images + learning_rate * grads
        return images

    return ascent
