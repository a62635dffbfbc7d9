"""Which channels of a layer to show: the most active on the probe images.

A deep layer has hundreds or thousands of channels (2,048 in ResNet50's last stage); a mural
of all of them is a texture, and the first 64 by index are an arbitrary sample. The channels
worth a look are the ones the data drives hardest: here, the largest mean square activation
over every probe image and position (for a ReLU output, how much it fires; for a signed one,
a normalisation's, how far it swings either way).
"""

from __future__ import annotations

import numpy as np


def channel_energy(maps) -> np.ndarray:
    """float64 `(C,)`: each channel's mean square over every axis but the last."""
    maps = np.asarray(maps)
    flat = maps.reshape(-1, maps.shape[-1]).astype(np.float64)
    return np.mean(np.square(flat), axis=0)


def most_active(maps, limit: int) -> np.ndarray:
    """int64 `(min(C, limit),)`, ascending: the channels of `maps` (`(..., C)`) with the
    largest `channel_energy`; every channel when there are at most `limit`. Ties keep the
    lower index."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1. Received: limit={limit}")
    energy = channel_energy(maps)
    if energy.size <= limit:
        return np.arange(energy.size)
    order = np.argsort(-energy, kind="stable")[:limit]
    return np.sort(order)
