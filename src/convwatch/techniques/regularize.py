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

Deep units. Past `DEEP_FIELD` = 40 px of receptive field (the theoretical window clipped to
the image), `maximize_filters` switches to the decorrelated parameterisation (`fourier.py`)
and the transforms of `transforms.py`, and sizes the crop and the jitter by the unit's
effective receptive field (Luo et al., 2016): the box holding `EFFECTIVE_MASS` = 99% of the
input gradient of the layer's centre units at the grey picture, along each axis (signed random
mixes of the channels, so that no channel's gradient cancels another's in the total), inside
the theoretical window. The threshold: every field of an MNIST (28 px) or CIFAR (32 px) net,
the nets the pixel path is measured on above, stays on the pixel path, unchanged; an
ImageNet-style net (ResNet, MobileNet, EfficientNet at 96-224 px) passes 40 px by its second
stage, where pixel ascent turns to high-frequency noise.
"""

from __future__ import annotations

import math

import numpy as np
from keras import ops

DEEP_FIELD = 40  # receptive-field side (px) above which the decorrelated ascent is used
EFFECTIVE_MASS = 0.99  # share of the input gradient inside the effective receptive field
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


def field_side(window: tuple[int, int, int, int], image: tuple[int, int]) -> int:
    """The larger side of `window` `(top, left, h, w)` clipped to the `image` `(H, W)`."""
    top, left, height, width = window
    rows = min(top + height, image[0]) - max(top, 0)
    cols = min(left + width, image[1]) - max(left, 0)
    return max(rows, cols)


def effective_window(gradient, window, mass: float = EFFECTIVE_MASS):
    """`(top, left, h, w)`: the box holding `mass` of `|gradient|` (`(N, H, W, C)`) along
    each axis, within `window` clipped to the image; `window` (clipped) when it is all zero."""
    magnitude = np.abs(np.asarray(gradient, np.float64)).sum(axis=(0, 3))  # (H, W)
    image = magnitude.shape
    top, left, height, width = window
    bounds = [
        (max(top, 0), min(top + height, image[0])),
        (max(left, 0), min(left + width, image[1])),
    ]
    out = []
    for axis, (lo, hi) in enumerate(bounds):
        profile = magnitude.sum(axis=1 - axis)[lo:hi]
        total = profile.sum()
        if not np.isfinite(total) or total <= 0:
            out.append((lo, hi - lo))
            continue
        share = np.cumsum(profile) / total
        tail = (1 - mass) / 2
        first = int(np.searchsorted(share, tail, side="right"))
        last = int(np.searchsorted(share, 1 - tail, side="left"))
        last = min(max(last, first), len(profile) - 1)
        out.append((lo + first, last - first + 1))
    (top, height), (left, width) = out
    return top, left, height, width
