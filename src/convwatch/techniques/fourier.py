"""A decorrelated parameterisation of pictures: a 1/frequency-scaled Fourier spectrum, and
decorrelated colour, then a sigmoid into [0, 1].

Gradient ascent on the pixels of a picture of a deep unit (receptive field of 100+ px, reached
through several strided layers) gives high-frequency noise: the gradient of such a unit is
dominated by aliased high frequencies, and a step in pixel space moves every frequency alike.
Natural images have a spectrum falling as 1/frequency and strongly correlated colour channels.
Optimising the picture's spectrum scaled by 1/frequency, in a colour basis that whitens the
channels, makes one step move the picture as much along each natural-image direction: the low
frequencies and the luminance that a deep unit responds to grow first, the noise does not
(Olah et al., "Feature Visualization", Distill 2017; Lucid's `fft_image` and
`_linear_decorrelate_color`, written here in `keras.ops` from their description).

The picture of parameters `p` (`(F, 2, C, H, W // 2 + 1)`: real and imaginary parts of each
channel's half spectrum, as `numpy.fft.rfft2` lays it out) is
`sigmoid(colour(irfft2(p * scale) / 4))`, `scale = sqrt(H W) / max(f, 1 / max(H, W))` with `f`
the frequency in cycles per pixel. The inverse real 2-D DFT is two matrix products with
precomputed cos/sin matrices (a complex inverse DFT along the rows, then a real one along the
columns): the same ops on every backend, with gradients, and cheap up to a few hundred pixels.
`p = 0` is the grey picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from keras import ops

__all__ = ["COLOR_CORRELATION_SVD_SQRT", "Spectrum", "spectrum"]

# The square root of ImageNet's colour correlation matrix, from its SVD (Lucid's
# `color_correlation_svd_sqrt`): its columns are a luminance and two opposing-colour axes.
COLOR_CORRELATION_SVD_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float64
)
_DIVISOR = 4.0  # Lucid divides the inverse transform by 4: a moderate start and step


@dataclass(frozen=True)
class Spectrum:
    """The constant matrices of the parameterisation of `(H, W, C)` pictures (float32)."""

    shape: tuple[int, int, int]  # (H, W, C)
    scale: np.ndarray  # (H, W // 2 + 1): sqrt(H W) / max(frequency, 1 / max(H, W))
    rows_cos: np.ndarray  # (H, H): cos(2 pi u h / H) / H, [h, u]
    rows_sin: np.ndarray  # (H, H): sin(2 pi u h / H) / H
    cols_cos: np.ndarray  # (W // 2 + 1, W): c_v cos(2 pi v w / W) / W, [v, w]
    cols_sin: np.ndarray  # (W // 2 + 1, W): c_v sin(2 pi v w / W) / W
    colour: np.ndarray  # (C, C): decorrelated -> RGB (the normalised matrix), or identity

    @property
    def param_shape(self) -> tuple[int, ...]:
        """The shape of one picture's parameters, `(2, C, H, W // 2 + 1)`."""
        height, width, channels = self.shape
        return (2, channels, height, width // 2 + 1)

    def linear(self, params):
        """`(F, 2, C, H, W // 2 + 1)` parameters -> `(F, H, W, C)` values before the sigmoid."""
        scale = ops.reshape(ops.convert_to_tensor(self.scale), (1, 1, 1, *self.scale.shape))
        spec = ops.convert_to_tensor(params) * scale
        real, imag = spec[:, 0], spec[:, 1]  # (F, C, H, Wf)
        rows_cos = ops.convert_to_tensor(self.rows_cos)
        rows_sin = ops.convert_to_tensor(self.rows_sin)
        # Complex inverse DFT along the rows: (cos + i sin)(real + i imag).
        y_real = ops.einsum("hu,ncuv->nchv", rows_cos, real) - ops.einsum(
            "hu,ncuv->nchv", rows_sin, imag
        )
        y_imag = ops.einsum("hu,ncuv->nchv", rows_sin, real) + ops.einsum(
            "hu,ncuv->nchv", rows_cos, imag
        )
        # Real inverse DFT along the columns (the half spectrum, counted twice but for the
        # constant and the Nyquist columns): Re((cos + i sin)(y_real + i y_imag)).
        pixels = ops.einsum("nchv,vw->nhwc", y_real, ops.convert_to_tensor(self.cols_cos))
        pixels = pixels - ops.einsum("nchv,vw->nhwc", y_imag, ops.convert_to_tensor(self.cols_sin))
        pixels = pixels / _DIVISOR
        if self.shape[-1] == 3:
            pixels = ops.einsum("nhwc,dc->nhwd", pixels, ops.convert_to_tensor(self.colour))
        return pixels

    def pictures(self, params):
        """`(F, H, W, C)` pictures in (0, 1): the sigmoid of `linear(params)`."""
        return ops.sigmoid(self.linear(params))

    def start(self, count_or_filters, seed: int, sd: float = 0.01) -> np.ndarray:
        """Seeded starting parameters, normal with standard deviation `sd` (Lucid's), one set
        per filter index: filter f gets the same start whatever else is asked for."""
        filters = np.asarray(count_or_filters).reshape(-1)
        out = np.empty((len(filters), *self.param_shape), np.float32)
        for i, f in enumerate(filters):
            out[i] = np.random.default_rng([int(seed), int(f)]).normal(0, sd, self.param_shape)
        return out


def spectrum(shape) -> Spectrum:
    """The `Spectrum` of `(H, W, C)` pictures; with 3 channels, colour is decorrelated."""
    height, width, channels = (int(d) for d in shape)
    half = width // 2 + 1
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    freq = np.sqrt(fy**2 + fx**2)
    scale = np.sqrt(height * width) / np.maximum(freq, 1.0 / max(height, width))
    rows = 2 * np.pi * np.outer(np.arange(height), np.arange(height)) / height
    cols = 2 * np.pi * np.outer(np.arange(half), np.arange(width)) / width
    weight = np.full((half, 1), 2.0)
    weight[0] = 1.0
    if width % 2 == 0:
        weight[-1] = 1.0  # the Nyquist column appears once in the full spectrum
    if channels == 3:
        colour = COLOR_CORRELATION_SVD_SQRT
        colour = colour / np.max(np.linalg.norm(colour, axis=0))
    else:
        colour = np.eye(channels)
    f32 = np.float32
    return Spectrum(
        shape=(height, width, channels),
        scale=scale.astype(f32),
        rows_cos=(np.cos(rows) / height).astype(f32),
        rows_sin=(np.sin(rows) / height).astype(f32),
        cols_cos=(weight * np.cos(cols) / width).astype(f32),
        cols_sin=(weight * np.sin(cols) / width).astype(f32),
        colour=colour.astype(f32),
    )
