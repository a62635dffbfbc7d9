"""What keeps an optimised picture looking like an input: defaults by receptive field, and the
blur `maximize_filters` applies to its gradient.

A unit deep in a network sees a large window through several poolings; pixel-level detail
finer than its input stride is aliased (max pooling passes the gradient to one pixel of each
window), so an unregularised picture of it drifts toward high-frequency noise (Olah et al.,
"Feature Visualization", Distill 2017). Two regularisers from that work, scaled with the
receptive field side `S` (the larger of its height and width):

- jitter: each step, the picture is shifted by up to `S // 16` pixels (0 below 16);
- blur: the gradient is smoothed by a Gaussian of standard deviation `S / 20` pixels before each
  step, a frequency penalty that damps what the unit cannot resolve (none below 0.3 pixels, so
  none for a 5x5 first layer, whose picture must be its kernel; 0.5 for a 10x10 field).

Measured on conv2 (10x10 field) of the 30/15 MNIST net after 10 epochs, pictures as the atlas
draws them: with the default blur 0.5 the largest high-frequency share (`spectrum.py`) is 0.20,
without blur 0.30, both at no cost in activation; a blur of 1.0, or a 1-pixel jitter, smooths
further but leaves some pictures below the activation of their best data patch (0.96 of it).

The L2 decay toward grey (the third, in `maximize.py`) is the same at every depth.
"""

from __future__ import annotations

import math

import numpy as np
from keras import ops

JITTER_PER_PIXEL = 1 / 16  # jitter = floor(S / 16) pixels
BLUR_PER_PIXEL = 1 / 20  # blur sigma = S / 20 pixels


def default_regularization(window: tuple[int, int, int, int]) -> tuple[int, float]:
    """`(jitter pixels, blur sigma)` for a unit whose input window is `(top, left, h, w)`."""
    side = max(window[2], window[3])
    return int(side * JITTER_PER_PIXEL), side * BLUR_PER_PIXEL


def blur_radius(sigma: float) -> int:
    """Half-width of the Gaussian kernel for `sigma`: 0 (no blur) below 0.3 px, else 2 sigma."""
    return 0 if sigma < 0.3 else max(1, math.ceil(2 * sigma))


def gaussian_taps(sigma: float) -> np.ndarray:
    """The normalised 1-D Gaussian, `2 * blur_radius(sigma) + 1` taps (float32)."""
    radius = blur_radius(sigma)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-(x**2) / (2 * max(sigma, 1e-6) ** 2))
    return (taps / taps.sum()).astype(np.float32)


def blur(images, taps):
    """Separable Gaussian blur of `(N, H, W, C)` with 1-D `taps`, zero padding ("same")."""
    channels = images.shape[-1]
    radius = taps.shape[0] // 2
    rows = ops.tile(ops.reshape(taps, (-1, 1, 1, 1)), (1, 1, channels, 1))
    cols = ops.reshape(rows, (1, -1, channels, 1))
    padded = ops.pad(images, ((0, 0), (radius, radius), (radius, radius), (0, 0)))
    out = ops.depthwise_conv(padded, rows, strides=1, padding="valid")
    return ops.depthwise_conv(out, cols, strides=1, padding="valid")
