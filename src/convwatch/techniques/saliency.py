"""Saliency maps (Simonyan et al., 2013) and SmoothGrad (Smilkov et al., 2017)."""

from __future__ import annotations

import contextlib

import numpy as np
from keras import ops

from convwatch.techniques import autodiff
from convwatch.techniques.class_score import check_inputs, class_scores, compiled, first_output


def saliency_map(
    model,
    images,
    classes=None,
    smooth_samples: int = 0,
    noise: float = 0.15,
    seed: int = 0,
) -> np.ndarray:
    """How much each pixel moves the class score: `max over channels |d score / d pixel|`.

    With `smooth_samples=S > 0` this is SmoothGrad: the gradient is averaged over S noisy copies
    of each image (Gaussian noise of standard deviation `noise` times the image's value range)
    before the absolute value is taken, which removes most of the speckle. All images, and all
    their noisy copies, go through one compiled gradient call.

    Args:
        model: a Keras 3 classifier (Sequential, functional, nested; built or not).
        images: `(N, H, W, C)` floats, as the model takes them.
        classes: `(N,)` class per image. Defaults to None: each image's predicted class.
        smooth_samples: noisy copies per image; 0 gives the plain saliency map. Defaults to 0.
        noise: noise level relative to `max - min` of each image. Defaults to 0.15.
        seed: seed of the noise. Defaults to 0.

    Returns:
        float32 `(N, H, W)`, >= 0.
    """
    x, c = check_inputs("saliency_map", model, images, classes)
    if smooth_samples < 0:
        raise ValueError(f"smooth_samples must be >= 0. Received: smooth_samples={smooth_samples}")
    gradient = compiled(model, ("input_gradient",), lambda: input_gradient(model))
    if smooth_samples == 0:
        return np.abs(gradient(x, c)[0]).max(axis=-1)
    # Noisy copies of each image, predicted class taken from the clean image.
    c = gradient(x, c)[1]
    spread = (x.max(axis=(1, 2, 3)) - x.min(axis=(1, 2, 3))).reshape(-1, 1, 1, 1, 1)
    rng = np.random.default_rng(seed)
    noisy = x[:, None] + rng.normal(size=(len(x), smooth_samples, *x.shape[1:])) * noise * spread
    grads = gradient(
        noisy.reshape(-1, *x.shape[1:]).astype(np.float32), np.repeat(c, smooth_samples)
    )
    grads = grads[0].reshape(len(x), smooth_samples, *x.shape[1:]).mean(axis=1)
    return np.abs(grads).max(axis=-1)


def input_gradient(model, through=contextlib.nullcontext):
    """A compiled `(images, classes) -> (d score / d images, classes)`.

    `through(model)` is a context the model is called in, while it is traced (on PyTorch: on
    every call); guided backpropagation swaps the model's ReLUs in it."""

    def run(images, classes):
        def total(images):
            with through(model):
                outputs = model(images, training=False)
            scores, chosen = class_scores(first_output(outputs), classes)
            return ops.sum(scores), chosen  # images do not interact: each its own gradient

        return autodiff.gradient(total, images)

    return autodiff.compile_function(run, [model])
