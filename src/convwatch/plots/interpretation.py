"""Interpretation pictures: each image beside its heat map (saliency, occlusion, Grad-CAM) and
the map laid over it, one row per image; signed gradients (guided backprop) as images.

Arrays in, uint8 images out (`results.write_png` saves them): nothing here knows Keras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from convwatch.plots.mural import tile, to_uint8_frame


def _unit(x: np.ndarray) -> np.ndarray:
    """Min-max scale each item of a batch to [0, 1]; a constant item becomes zeros."""
    axes = tuple(range(1, x.ndim))
    low, high = x.min(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)
    return np.where(high > low, (x - low) / np.where(high > low, high - low, 1), 0.0)


def as_rgb(images: Any) -> np.ndarray:
    """`(N, H, W)` or `(N, H, W, 1|3)` -> float32 `(N, H, W, 3)`, each image scaled to [0, 1]."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"`images` must be (N, H, W) or (N, H, W, 1|3). Received: {x.shape}")
    return np.repeat(_unit(x), 3 // x.shape[-1], axis=-1).astype(np.float32)


def heat_rgb(maps: Any, cmap: str = "jet") -> np.ndarray:
    """Heat maps `(N, H, W)` -> float32 `(N, H, W, 3)` through `cmap`, each map scaled alone."""
    import matplotlib

    return matplotlib.colormaps[cmap](_unit(np.asarray(maps, np.float32)))[..., :3].astype(
        np.float32
    )


def signed_image(gradients: Any) -> np.ndarray:
    """Signed gradients `(N, H, W, C)` -> `(N, H, W, C)` in [0, 1]: 0.5 is zero, each image
    scaled so 3 standard deviations reach the ends (keras.io's deprocessing, 0.15 -> 0.5/3)."""
    g = np.asarray(gradients, np.float32)
    axes = tuple(range(1, g.ndim))
    g = g - g.mean(axis=axes, keepdims=True)
    g = g / (g.std(axis=axes, keepdims=True) + 1e-8) * (0.5 / 3)
    return np.clip(g + 0.5, 0, 1)


def interpretation_rows(
    images: Any,
    maps: Any,
    signed: bool = False,
    cmap: str = "jet",
    alpha: float = 0.5,
    size: int | None = 512,
) -> np.ndarray:
    """One row per image: the image, its map, the map laid over the image.

    Args:
        images: `(N, H, W)` or `(N, H, W, 1|3)`, any range (each is scaled to [0, 1]).
        maps: heat maps `(N, H, W)`, or signed gradients `(N, H, W, C)` with `signed=True`
            (shown as images by `signed_image`, no overlay).
        signed: see `maps`. Defaults to False.
        cmap: colour map of the heat maps. Defaults to "jet".
        alpha: weight of the heat map in the overlay. Defaults to 0.5.
        size: the long side is upscaled (nearest neighbour) to at least this. Defaults to 512.

    Returns:
        uint8 `(rows, cols, 3)`.
    """
    pictures = as_rgb(images)
    maps = np.asarray(maps, np.float32)
    if len(maps) != len(pictures) or maps.shape[1:3] != pictures.shape[1:3]:
        raise ValueError(
            f"need one (H, W) map per image. Received: images {pictures.shape}, maps {maps.shape}"
        )
    if signed:
        columns = [pictures, as_rgb(signed_image(maps))]
    else:
        heat = heat_rgb(maps, cmap)
        columns = [pictures, heat, (1 - alpha) * pictures + alpha * heat]
    tiles = np.stack(columns, axis=1).reshape(-1, *pictures.shape[1:])
    grid = tile(tiles, cols=len(columns), normalize="none")
    return to_uint8_frame(grid, size=size)


def captioned_rows(images: Any, maps: Any, title: str, **kwargs: Any) -> np.ndarray:
    """`interpretation_rows(images, maps, **kwargs)` with `title` on a band below."""
    from convwatch.plots.frames import caption_frame

    return caption_frame(interpretation_rows(images, maps, **kwargs), title)
