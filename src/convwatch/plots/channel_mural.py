"""A labelled mural of chosen feature maps: each tile named by its channel index.

When a capture shows 64 of a layer's 2,048 channels, the reader needs to know which: every
tile carries its index above it. Tiles are scaled up by a whole factor, without blur, so that
each map is at least 16 px on its short side (a 5x5 map of a last stage would otherwise be a
smudge) and the mural about 480 px wide; a map's own min-max sets its colours (viridis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from convwatch.plots.figure import colormap
from convwatch.plots.frames import default_font
from convwatch.plots.scaling import min_max

MIN_SIDE = 16  # pixels on a tile's short side, at least
WIDTH = 480  # tiles are scaled up until the mural is about this wide
GAP = 3
FONT = 10  # tile labels
TITLE = 14


def channel_mural(
    maps: Any, channels: Sequence[int], title: str = "", cmap: str = "viridis"
) -> np.ndarray:
    """`(H, W, K)` maps of one image as labelled tiles (see the module docstring).

    Args:
        maps: `(H, W, K)` feature maps (a leading batch axis of 1 is dropped).
        channels: the K channel indices, one label per tile.
        title: a line drawn above the tiles (the mural widens to fit it). Defaults to none.
        cmap: matplotlib colour map. Defaults to "viridis".

    Returns:
        uint8 RGB, white around the tiles.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3 or maps.shape[-1] != len(channels) or maps.shape[-1] == 0:
        raise ValueError(
            f"`maps` must be (H, W, K) with one of `channels` per map. Received: {maps.shape} "
            f"and {len(channels)} channels"
        )
    h, w, k = maps.shape
    cols = math.ceil(math.sqrt(k))
    rows = math.ceil(k / cols)
    factor = max(1, math.ceil(MIN_SIDE / min(h, w)), WIDTH // (cols * w))
    font = default_font(FONT)
    label_h = FONT + 3
    cell_w = max(w * factor, int(font.getlength(str(max(channels)))) + 2) + GAP
    cell_h = h * factor + label_h + GAP
    head_font = default_font(TITLE)
    head = TITLE + 10 if title else 0
    width = max(cols * cell_w - GAP, int(head_font.getlength(title)) + 2 * GAP)
    canvas = Image.new("RGB", (width, head + rows * cell_h - GAP), "white")
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((GAP, 3), title, fill="black", font=head_font)
    colours = colormap(cmap)
    for i, channel in enumerate(channels):
        r, c = divmod(i, cols)
        x, y = c * cell_w, head + r * cell_h
        rgb = colours(min_max(maps[..., i]))[..., :3]
        tile = np.round(rgb * 255).astype(np.uint8).repeat(factor, 0).repeat(factor, 1)
        draw.text((x, y), str(channel), fill="black", font=font)
        canvas.paste(Image.fromarray(tile), (x, y + label_h))
    return np.asarray(canvas)
