"""How much of a picture is fine-grained detail: the share of its energy at high frequencies.

A measure for optimised pictures: white noise puts its energy evenly over all frequencies, so
about 80% of it lies beyond a radius of 0.25 cycles/pixel (half the Nyquist frequency, 0.5);
a smooth pattern keeps most of its energy below it (a stroke 2-3 pixels wide: < 0.2).
"""

from __future__ import annotations

import numpy as np

CUTOFF = 0.25  # cycles per pixel: half the Nyquist frequency


def high_frequency_share(pictures, cutoff: float = CUTOFF) -> np.ndarray:
    """Share of each picture's spectral energy at radius > `cutoff` cycles/pixel.

    The mean of each picture (per channel) is removed first, so a uniform offset counts for
    nothing; the energies of the channels are added. A constant picture has no energy to share
    and gets 0.

    Args:
        pictures: `(N, H, W)` or `(N, H, W, C)`, e.g. `maximize_filters` pictures cropped to
            their receptive field.
        cutoff: the radius in cycles per pixel, in (0, 0.71]. Defaults to 0.25.

    Returns:
        float64 `(N,)` in [0, 1].
    """
    x = np.asarray(pictures, np.float64)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"pictures must be (N, H, W) or (N, H, W, C). Received: {x.shape}")
    x = x - x.mean(axis=(1, 2), keepdims=True)
    energy = np.abs(np.fft.fft2(x, axes=(1, 2))) ** 2  # (N, H, W, C)
    fy, fx = np.fft.fftfreq(x.shape[1]), np.fft.fftfreq(x.shape[2])
    high = np.hypot(fy[:, None], fx[None, :]) > cutoff
    total = energy.sum(axis=(1, 2, 3))
    above = (energy * high[None, :, :, None]).sum(axis=(1, 2, 3))
    return np.divide(above, total, out=np.zeros_like(total), where=total > 1e-12 * x[0].size)
