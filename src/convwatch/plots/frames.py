"""GIF frames: uint8 images with a caption band ("epoch 3"), ready for `atomic.write_gif`."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from convwatch.plots.mural import to_uint8_frame


@functools.cache  # loading the font file costs more than drawing a label with it
def default_font(height: int):
    """Pillow's default font at `height` px (its bitmap font where FreeType is missing)."""
    try:
        return ImageFont.load_default(size=height)
    except (TypeError, OSError, ImportError):  # Pillow < 10.1 or no FreeType
        return ImageFont.load_default()


def caption_frame(frame: Any, text: str, font_size: int | None = None) -> np.ndarray:
    """`frame` with a white band below it, `text` centred on the band in black.

    Args:
        frame: uint8 `(H, W)`, `(H, W, 1)` or `(H, W, 3)`.
        text: the caption, e.g. "epoch 3".
        font_size: in pixels. Defaults to about a sixteenth of the frame's width, at least 11.

    Returns:
        uint8 `(H + band, W)` or `(H + band, W, 3)`: the frame's own mode, gray stays gray.
    """
    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[-1] == 1:
        frame = frame[..., 0]
    if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
        raise ValueError(
            f"`frame` must be uint8 (H, W), (H, W, 1) or (H, W, 3). "
            f"Received: {frame.dtype} {frame.shape}"
        )
    h, w = frame.shape[:2]
    font = default_font(font_size or max(11, w // 16))
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, _, right, _ = probe.textbbox((0, 0), text, font=font)
    # the band's height comes from a reference string, so every caption of a GIF is the same size
    _, top, _, bottom = probe.textbbox((0, 0), "Agjy|0_", font=font)
    margin = max(2, (bottom - top) // 3)
    band = bottom - top + 2 * margin
    white = 255 if frame.ndim == 2 else (255, 255, 255)
    canvas = Image.new("L" if frame.ndim == 2 else "RGB", (w, h + band), white)
    canvas.paste(Image.fromarray(frame), (0, 0))
    x = max(0, (w - (right - left)) // 2 - left)
    ImageDraw.Draw(canvas).text(
        (x, h + margin - top), text, fill=0 if frame.ndim == 2 else (0, 0, 0), font=font
    )
    return np.asarray(canvas)


def animation_frames(
    grids: Sequence[Any],
    captions: Sequence[str] | None = None,
    size: int | None = 256,
    cmap: str | None = None,
) -> list[np.ndarray]:
    """Grids (one per epoch, all the same shape) as captioned uint8 frames for a GIF.

    Each grid goes through `to_uint8_frame(grid, size, cmap)`, then `caption_frame` when
    `captions` is given (one caption per grid).
    """
    if captions is not None and len(captions) != len(grids):
        raise ValueError(
            f"need one caption per grid. Received: {len(grids)} grids, {len(captions)} captions"
        )
    frames = [to_uint8_frame(g, size=size, cmap=cmap) for g in grids]
    if captions is not None:
        frames = [caption_frame(f, c) for f, c in zip(frames, captions, strict=True)]
    return frames
