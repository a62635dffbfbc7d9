"""Grad-CAM (Selvaraju et al., 2017): where in a conv layer's maps the class evidence lies.

After keras.io's `make_gradcam_heatmap`, batched: each feature map of the layer is weighted by
the mean gradient of the class score over its positions, the weighted maps are summed, the
negative part dropped, and the map is scaled to [0, 1] and resized to the image. The layer may
sit inside a nested model (a backbone).

The gradient with respect to the layer's maps is the gradient with respect to a zero added to
them: JAX differentiates functions of their inputs only, so the layer's call is wrapped, while
the model is traced (on PyTorch: called), to add that zero and keep its output. One
formulation for every backend.
"""

from __future__ import annotations

import contextlib

import numpy as np
from keras import ops

from convwatch.techniques import autodiff
from convwatch.techniques.class_score import check_inputs, class_scores, compiled, first_output
from convwatch.techniques.extractor import feature_extractor
from convwatch.techniques.layers import find_layers, get_layer, resolve


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
    return run(x, c)


def _cam(model, path: str, x):
    maps_shape = tuple(feature_extractor(model, [path], sample=x).outputs[0].shape[1:])
    if len(maps_shape) != 3 or None in maps_shape:
        raise ValueError(
            f"Grad-CAM needs a layer with (N, h, w, F) output; {path!r} gives (N, *{maps_shape})."
        )
    layer = get_layer(model, path)

    def cam(images, classes):
        def total(delta):
            with _added_to_output(layer, delta) as seen:
                predictions = first_output(model(images, training=False))
            scores, _ = class_scores(predictions, classes)
            return ops.sum(scores), seen[0]

        delta = ops.zeros((ops.shape(images)[0], *maps_shape), dtype="float32")
        grads, maps = autodiff.gradient(total, delta)  # (N, h, w, F) both
        weights = ops.mean(grads, axis=(1, 2), keepdims=True)
        heat = ops.relu(ops.sum(weights * maps, axis=-1, keepdims=True))
        heat = ops.image.resize(heat, x.shape[1:3], interpolation="bilinear")[..., 0]
        peak = ops.max(heat, axis=(1, 2), keepdims=True)
        return ops.divide_no_nan(heat, peak)

    return autodiff.compile_function(cam, [model])


@contextlib.contextmanager
def _added_to_output(layer, delta):
    """Within the block, `layer`'s output is its own plus `delta`; the list yielded gets it."""
    plain, seen = layer.call, []

    def call(*args, **kwargs):
        seen.append(plain(*args, **kwargs) + delta)
        return seen[-1]

    layer.call = call  # an instance attribute shadows the class's call
    try:
        yield seen
    finally:
        del layer.call
