"""Murals: many small images (feature maps, filter weights) tiled into one grid image.

`tile` does the layout; `feature_map_mural` and `filter_mural` turn a conv layer's output or its
kernel into tiles; `mural_figure` shows a grid as a figure and `to_uint8_frame` turns it into an
upscaled uint8 image for a GIF. Arrays in, arrays or figures out: nothing here knows Keras.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from convwatch.plots.figure import colormap, new_figure
from convwatch.plots.scaling import min_max

NORMALIZE_MODES = ("each", "global", "none")


def tile(
    images: Any,
    cols: int | None = None,
    pad: int = 1,
    pad_value: float = 1.0,
    normalize: str = "each",
) -> np.ndarray:
    """Lay `images` out row by row on one grid image.

    Tiles are separated by `pad` pixels of `pad_value` (between tiles only, no outer border);
    the unused slots of the last row are filled with `pad_value` too.

    Args:
        images: `(N, H, W)` or `(N, H, W, C)` with `C` 1 or 3.
        cols: tiles per row. Defaults to `ceil(sqrt(N))`.
        pad: pixels between tiles. Defaults to 1.
        pad_value: value of the padding. Defaults to 1.0 (white in gray, yellow in viridis);
            `np.nan` is drawn white by `mural_figure` and `to_uint8_frame` whatever the cmap.
        normalize: `"each"` min-max scales every tile to [0, 1] on its own (an RGB tile over
            its three channels together, which keeps its colours), `"global"` scales all tiles
            together, `"none"` leaves the values alone. A constant tile becomes zeros.

    Returns:
        float32 `(rows*(H+pad)-pad, cols*(W+pad)-pad)`, or with a trailing 3 for RGB tiles.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] != 3) or len(x) == 0:
        raise ValueError(
            f"`images` must be (N, H, W) or (N, H, W, 1|3) with N >= 1. Received: {x.shape}"
        )
    if normalize not in NORMALIZE_MODES:
        raise ValueError(f"`normalize` must be one of {NORMALIZE_MODES}. Received: {normalize!r}")
    if pad < 0:
        raise ValueError(f"`pad` must be >= 0. Received: pad={pad}")
    if normalize == "each":
        x = np.stack([min_max(t) for t in x])
    elif normalize == "global":
        x = min_max(x)

    n, h, w = x.shape[:3]
    cols = max(1, min(cols or math.ceil(math.sqrt(n)), n))
    rows = math.ceil(n / cols)
    grid = np.full(
        (rows * (h + pad) - pad, cols * (w + pad) - pad, *x.shape[3:]), pad_value, np.float32
    )
    for i, t in enumerate(x):
        r, c = divmod(i, cols)
        grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = t
    return grid


def feature_map_mural(maps: Any, cols: int | None = None, pad: int = 1, **kwargs: Any):
    """One image's feature maps `(H, W, F)` (a conv layer's output) as a grid of F gray tiles.

    A leading batch axis of size 1 is dropped. Each map is min-max scaled on its own unless
    `normalize=` says otherwise (see `tile`).
    """
    maps = np.asarray(maps)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"`maps` must be (H, W, F). Received: {maps.shape}")
    return tile(np.moveaxis(maps, -1, 0), cols=cols, pad=pad, **kwargs)


def filter_mural(kernel: Any, cols: int | None = None, pad: int = 1, **kwargs: Any):
    """A Conv2D kernel `(kh, kw, in_ch, out_ch)` as a grid of `out_ch` small images.

    With 3 input channels (a first layer on RGB images) each filter is shown in colour, its
    (kh, kw, 3) weights as an RGB tile. Otherwise the weights cannot be one picture, so each
    filter is shown as its mean over the input channels, in gray (for a first layer on grayscale
    images, in_ch == 1, that mean is the filter itself).
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 4:
        raise ValueError(f"`kernel` must be (kh, kw, in_ch, out_ch). Received: {kernel.shape}")
    tiles = np.moveaxis(kernel, -1, 0)  # (out, kh, kw, in)
    if kernel.shape[2] != 3:
        tiles = tiles.mean(axis=-1)
    return tile(tiles, cols=cols, pad=pad, **kwargs)


def mural_figure(
    grid: Any, title: str = "", cmap: str = "viridis", scale: float | None = None, dpi: int = 100
):
    """Show a grid image (from `tile`) on a bare axes, sized so its pixels stay visible.

    Args:
        grid: `(H, W)` (drawn with `cmap`) or `(H, W, 3)` in [0, 1].
        title: drawn above the image.
        cmap: colour map for a 2-D grid. Defaults to "viridis".
        scale: figure pixels per grid pixel at `dpi`. Defaults to enough for a long side of
            about 600 px, and never below 3 (a 28 px tile comes out at least 84 px wide).
        dpi: the dpi the figure will be saved at (`atomic.write_figure` uses 100).
    """
    grid = np.asarray(grid)
    if grid.ndim == 3 and grid.shape[-1] == 1:
        grid = grid[..., 0]
    if grid.ndim not in (2, 3):
        raise ValueError(f"`grid` must be (H, W) or (H, W, 3). Received: {grid.shape}")
    h, w = grid.shape[:2]
    scale = scale or max(3.0, 600 / max(h, w))
    title_in = 0.45 if title else 0.0
    width, height = w * scale / dpi, h * scale / dpi
    fig, ax = new_figure(1, 1, panel_size=(width, height + title_in), dpi=dpi)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=height / (height + title_in))
    if grid.ndim == 2:
        colours = colormap(cmap).with_extremes(bad="white")  # NaN padding
        ax.imshow(np.ma.masked_invalid(grid), cmap=colours, interpolation="nearest")
    else:
        ax.imshow(np.clip(np.nan_to_num(grid, nan=1.0), 0, 1), interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.suptitle(title, y=1 - 0.08 / (height + title_in), va="top", fontsize=12)
    return fig


def to_uint8_frame(grid: Any, size: int | None = 256, cmap: str | None = None) -> np.ndarray:
    """A grid image as a uint8 GIF frame, upscaled by nearest neighbour so it can be read.

    Args:
        grid: `(H, W)`, `(H, W, 1)` or `(H, W, 3)`; floats in [0, 1] (clipped; NaN is
            white) or uint8.
        size: the long side is repeated by a whole factor until it is at least `size` pixels;
            None or 0 keeps the grid's size. Defaults to 256.
        cmap: a matplotlib colour map name to colour a 2-D grid (the frame becomes RGB);
            None keeps it gray. Defaults to None.

    Returns:
        uint8 `(H*f, W*f)` (gray, never a trailing 1-channel) or `(H*f, W*f, 3)`.
    """
    grid = np.asarray(grid)
    if grid.ndim == 3 and grid.shape[-1] == 1:
        grid = grid[..., 0]
    if grid.ndim not in (2, 3) or (grid.ndim == 3 and grid.shape[-1] != 3):
        raise ValueError(f"`grid` must be (H, W), (H, W, 1) or (H, W, 3). Received: {grid.shape}")
    if grid.dtype == np.uint8 and cmap and grid.ndim == 2:
        grid = grid / 255.0
    if grid.dtype != np.uint8:
        unit = grid.astype(np.float32)
        if cmap and grid.ndim == 2:
            colours = colormap(cmap).with_extremes(bad="white")  # NaN padding
            unit = colours(np.ma.masked_invalid(unit))[..., :3]
        unit = np.clip(np.nan_to_num(unit, nan=1.0), 0.0, 1.0)
        grid = np.round(unit * 255).astype(np.uint8)
    factor = max(1, math.ceil(size / max(grid.shape[:2]))) if size else 1
    return grid.repeat(factor, axis=0).repeat(factor, axis=1)
