"""Grad-CAM (Selvaraju et al., 2017): where in a conv layer's maps the class evidence lies.

After keras.io's `make_gradcam_heatmap`, batched: each feature map of the layer is weighted by
the mean gradient of the class score over its positions, the weighted maps are summed, the
negative part dropped, and the map is scaled to [0, 1] and resized to the image. The layer may
sit inside a nested model (a backbone): the sub-model comes from `feature_extractor`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from convwatch.techniques.class_score import check_inputs, class_scores, compiled
from convwatch.techniques.extractor import feature_extractor
from convwatch.techniques.layers import find_layers, resolve


def grad_cam(model, images, classes=None, layer: str | None = None) -> np.ndarray:
    """Class activation maps of `layer` for each image, upsampled to the image size.

    Args:
        model: a Keras 3 classifier (Sequential, functional, nested; built or not).
        images: `(N, H, W, C)` floats, as the model takes them.
        classes: `(N,)` class per image. Defaults to None: each image's predicted class.
        layer: a layer with 4-D output `(N, h, w, F)` (canonical name or path). Defaults to
            the last convolution layer.

    Returns:
        float32 `(N, H, W)` in [0, 1] (bilinear upsampling of the `(h, w)` map); all zeros
        where no position has positive evidence.
    """
    x, c = check_inputs("grad_cam", model, images, classes)
    if layer is None:
        convs = find_layers(model, ("conv",))
        if not convs:
            raise ValueError(f"Model {model.name!r} has no convolution layer for Grad-CAM.")
        layer = convs[-1]
    path = resolve(model, [layer])[0]
    run = compiled(model, ("grad_cam", path, x.shape[1:]), lambda: _cam(model, path, x))
    return run(x, c).numpy()


def _cam(model, path: str, x):
    # The model's last top-level layer gives its output, so one call yields both tensors.
    extractor = feature_extractor(model, [path, model.layers[-1].name], sample=x)
    if len(extractor.outputs[0].shape) != 4:
        raise ValueError(
            f"Grad-CAM needs a layer with (N, h, w, F) output; {path!r} gives "
            f"{tuple(extractor.outputs[0].shape)}."
        )
    spec = tf.TensorSpec((None, *x.shape[1:]), tf.float32)

    @tf.function(input_signature=[spec, tf.TensorSpec((None,), tf.int32)])
    def cam(images, classes):
        # The tape watches the weights, so it records the path from `maps` to the scores.
        with tf.GradientTape() as tape:
            maps, predictions = extractor(images, training=False)
            scores, _ = class_scores(predictions, classes)
            total = tf.reduce_sum(scores)
        grads = tape.gradient(total, maps)  # (N, h, w, F)
        weights = tf.reduce_mean(grads, axis=[1, 2], keepdims=True)
        heat = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1, keepdims=True))
        heat = tf.image.resize(heat, x.shape[1:3], method="bilinear")[..., 0]
        peak = tf.reduce_max(heat, axis=[1, 2], keepdims=True)
        return tf.math.divide_no_nan(heat, peak)

    return cam
