"""The filter atlas: per filter, its optimised picture beside the data patches it fires on most.

One tile per filter: a label (filter index and its peak activation on the probe images), the
optimised picture on the left (outlined in orange), the top exemplar patches on the right in
reading order, best first. A dead filter (never above 0 on the probe set) is a labelled tile
with no pictures. Everything is scaled up by whole factors with nearest neighbour, so each
input pixel is a visible square. Arrays in, a uint8 RGB image out (Pillow); no Keras here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from convwatch.plots.frames import default_font

BLOCK = 96  # target side in pixels of a picture
EXEMPLAR_BLOCK = 120  # target side of the block of exemplars beside it
GAP = 3  # pixels between exemplars (mid-grey, so white strokes keep their edges)
PAD = 5  # inside a tile, around its contents
MARGIN = 10  # between tiles
TILE_FILL = (238, 238, 238)
PICTURE_EDGE = (230, 120, 0)  # orange outline: the optimised picture
EXEMPLAR_BACK = (128, 128, 128)
DEAD_FILL = (250, 226, 226)
DEAD_TEXT = (170, 0, 0)


def filter_atlas(
    pictures,
    filters: Sequence[int],
    exemplars=None,
    activations=None,
    dead=None,
    title: str = "",
    subtitle: str = "",
    cols: int | None = None,
) -> np.ndarray:
    """Lay out one tile per filter (see the module docstring) under a title.

    Args:
        pictures: `(F, h, w, C)` in [0, 1], C 1 or 3 (other C: the channel mean); the part of
            the optimised picture to show (its receptive field for a neuron objective).
        filters: the F filter indices, for the labels.
        exemplars: `(F, k, h2, w2, C)` patches in [0, 1], best first, or None for pictures only.
        activations: `(F, k)` the exemplars' activations (the first is the peak in the label).
        dead: `(F,)` bool, True for filters drawn as "dead" tiles. Defaults to none dead.
        title: the first header line, e.g. "conv2, epoch010: 15 filters".
        subtitle: the second, smaller header line (what a tile shows); wrapped to the width.
        cols: tiles per row. Defaults to about `sqrt(2 F)`, at most 8.

    Returns:
        uint8 `(H, W, 3)`. Same arguments of the same shapes give the same size (GIF frames).
    """
    pictures = _fitted(_displayable(pictures), BLOCK)
    count = len(pictures)
    dead = np.zeros(count, bool) if dead is None else np.asarray(dead, bool)
    patches = None
    if exemplars is not None:
        side = (EXEMPLAR_BLOCK - GAP) // max(_grid_shape(np.shape(exemplars)[1])) - GAP
        patches = _fitted(_displayable(exemplars), side)
    if (
        len(filters) != count
        or len(dead) != count
        or (patches is not None and len(patches) != count)
    ):
        raise ValueError("pictures, filters, dead and exemplars must have one entry per filter.")
    layout = _layout(pictures, patches, cols, title, subtitle)
    canvas = Image.new("RGB", (layout.width, layout.height), "white")
    draw = ImageDraw.Draw(canvas)
    y = MARGIN
    for text, font, height in layout.header:
        draw.text((MARGIN, y), text, fill="black", font=font)
        y += height
    for i in range(count):
        x0, y0 = layout.tile_origin(i)
        box = [x0, y0, x0 + layout.tile_w - 1, y0 + layout.tile_h - 1]
        draw.rectangle(box, fill=DEAD_FILL if dead[i] else TILE_FILL)
        label = f"#{filters[i]}"
        if dead[i]:
            _draw_dead(draw, (x0 + PAD, y0 + PAD), label)
            continue
        if activations is not None:
            label += f"   peak {float(np.asarray(activations)[i][0]):.3g}"
        tile_patches = None if patches is None else patches[i]
        _draw_tile(canvas, draw, (x0 + PAD, y0 + PAD), label, pictures[i], tile_patches, layout)
    return np.asarray(canvas)


def atlas_tile(picture, exemplars=None, label: str = "", fill=TILE_FILL) -> np.ndarray:
    """One tile of `filter_atlas` alone, as uint8 `(H, W, 3)`: `label` over the picture
    `(h, w, C)` in [0, 1] and its exemplar patches `(k, h2, w2, C)` (or None), drawn and sized
    exactly as in the atlas (for figures that set tiles of two networks side by side)."""
    pictures = _fitted(_displayable(np.asarray(picture)[None]), BLOCK)
    patches = None
    if exemplars is not None:
        side = (EXEMPLAR_BLOCK - GAP) // max(_grid_shape(np.shape(exemplars)[0])) - GAP
        patches = _fitted(_displayable(np.asarray(exemplars)[None]), side)
    layout = _layout(pictures, patches, 1, "", "")
    label_w = math.ceil(
        ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(label, default_font(13))
    )
    canvas = Image.new("RGB", (max(layout.tile_w, label_w + 2 * PAD), layout.tile_h), fill)
    draw = ImageDraw.Draw(canvas)
    _draw_tile(
        canvas,
        draw,
        (PAD, PAD),
        label,
        pictures[0],
        None if patches is None else patches[0],
        layout,
    )
    return np.asarray(canvas)


LABEL_H = 18  # height of a tile's label line


@dataclass(frozen=True)
class _Layout:
    """Sizes and places of an atlas: its tiles, the picture in a tile, the header."""

    scale: int  # whole magnification of the pictures
    side: tuple[int, int]  # (h, w) of a picture with its 2-pixel outline
    block: tuple[int, int]  # (h, w) of the exemplar block; (0, 0) with no exemplars
    tile_w: int
    tile_h: int
    cols: int
    width: int
    height: int
    header: list  # [(text, font, line height)]
    header_h: int

    def tile_origin(self, i: int) -> tuple[int, int]:
        r, c = divmod(i, self.cols)
        return MARGIN + c * (self.tile_w + MARGIN), self.header_h + r * (self.tile_h + MARGIN)


def _layout(pictures, patches, cols: int | None, title: str, subtitle: str) -> _Layout:
    count = len(pictures)
    scale = max(1, BLOCK // max(pictures.shape[1:3]))
    side = (pictures.shape[1] * scale + 4, pictures.shape[2] * scale + 4)  # with the outline
    block = _exemplar_block_size(patches) if patches is not None else (0, 0)
    tile_w = max(2 * PAD + side[1] + (PAD + block[1] if patches is not None else 0), 120)
    tile_h = 2 * PAD + LABEL_H + max(side[0], block[0])
    cols = cols or max(1, min(count, 8, math.ceil(math.sqrt(2 * count))))
    rows = math.ceil(count / cols)
    width = max(cols * (tile_w + MARGIN) + MARGIN, 520)
    header = _header_lines(title, subtitle, width, default_font(12))
    header_h = MARGIN + sum(h for _, _, h in header) + 4
    height = header_h + rows * (tile_h + MARGIN) + MARGIN
    return _Layout(scale, side, block, tile_w, tile_h, cols, width, height, header, header_h)


def _draw_dead(draw, xy: tuple[int, int], label: str) -> None:
    """A dead filter's tile: its label and why it is dead, no pictures."""
    x0, y0 = xy
    small = default_font(12)
    draw.text((x0, y0), f"{label}   dead", fill=DEAD_TEXT, font=default_font(13))
    draw.text((x0, y0 + LABEL_H + 8), "never above 0 on", fill=DEAD_TEXT, font=small)
    draw.text((x0, y0 + LABEL_H + 24), "any probe image", fill=DEAD_TEXT, font=small)


def _draw_tile(canvas, draw, xy, label: str, picture, patches, layout: _Layout) -> None:
    """A live filter's tile: the label, the outlined picture, and its exemplars to the right."""
    x0, y0 = xy
    side = layout.side
    draw.text((x0, y0), label, fill="black", font=default_font(13))
    top = y0 + LABEL_H
    draw.rectangle([x0, top, x0 + side[1] - 1, top + side[0] - 1], fill=PICTURE_EDGE)
    canvas.paste(Image.fromarray(_scaled(picture, layout.scale)), (x0 + 2, top + 2))
    if patches is not None:
        origin = (x0 + side[1] + PAD, top)
        block = layout.block
        draw.rectangle(
            [*origin, origin[0] + block[1] - 1, origin[1] + block[0] - 1], fill=EXEMPLAR_BACK
        )
        _paste_block(canvas, patches, (origin[0] + GAP, origin[1] + GAP))


def atlas_text(
    layer: str,
    tag: str,
    count: int,
    field: tuple[int, int],
    cropped: bool,
    targeted: bool,
    exemplars: int | None = None,
    dead=None,
    probes: int = 0,
    of: int | None = None,
    deep: bool = False,
) -> tuple[str, str]:
    """The atlas's title (layer, tag, counts) and the line saying what a tile shows.

    Args:
        layer, tag: e.g. "conv2", "epoch010".
        count: the number of filters drawn.
        field: height and width of the pictures shown.
        cropped: True when they are the centre unit's receptive field, not whole inputs.
        targeted: True when each picture is the faintest to reach its best exemplar.
        exemplars: exemplars per filter, or None when there are none.
        dead: `(F,)` bool of the dead filters, with exemplars.
        probes: how many probe images the exemplars come from.
        of: the layer's filter count, where the atlas shows the most active `count` of them.
        deep: True when the pictures were optimised as a Fourier spectrum (a deep unit).
    """
    unit = "the filter's centre unit" if cropped else "the filter"
    where = f"shown over its {field[0]}x{field[1]} receptive field" if cropped else "whole"
    if targeted:
        what = f"the faintest input that excites {unit} as much as its best probe patch"
    elif deep:
        what = (
            f"the input that excites {unit} most, optimised as a Fourier spectrum under random "
            "shift, scale and rotation"
        )
    else:
        what = f"the input that excites {unit} most at a fixed contrast"
    shown = f"{count} filter{'' if count == 1 else 's'}"
    if of is not None and of > count:
        shown = f"the {count} most active of {of:,} filters" if exemplars else f"{shown} of {of:,}"
    title = f"{layer}, {tag}: {shown}"
    subtitle = f"Each tile: filter index; left (orange), {what}, {where} (grey = 0.5)."
    if exemplars is not None:
        title += f", {int(np.sum(dead))} dead, on {probes:,} probe images"
        subtitle += (
            f" Right: the {exemplars} probe patches (one per image) where the filter fires "
            "most, best first; 'peak': its largest activation on the probe images. Dead: never "
            "above 0 on any probe image."
        )
    return title, subtitle


def _displayable(images) -> np.ndarray:
    """float `(..., h, w, C)` -> uint8 `(..., h, w, 3)`: gray repeated, other C averaged."""
    x = np.clip(np.nan_to_num(np.asarray(images, np.float32), nan=0.5), 0.0, 1.0)
    if x.shape[-1] != 3:
        x = np.repeat(x.mean(axis=-1, keepdims=True), 3, axis=-1)
    return np.round(x * 255).astype(np.uint8)


def drawn_tiles(pictures, exemplars=None) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The pictures and exemplar patches as uint8 RGB exactly as `filter_atlas` draws them,
    where it shrinks either to fit its tile (a deep unit's, up to the whole image); None where
    it draws both at their own size (every small net's). What a capture saves beside the
    picture: the same numbers, not the full-size arrays (tens of MB a layer)."""
    side = None
    if exemplars is not None:
        side = (EXEMPLAR_BLOCK - GAP) // max(_grid_shape(np.shape(exemplars)[1])) - GAP
    too_big = max(np.shape(pictures)[1:3]) > BLOCK
    if not too_big and (side is None or max(np.shape(exemplars)[2:4]) <= side):
        return None
    shown = _fitted(_displayable(pictures), BLOCK)
    return shown, None if exemplars is None else _fitted(_displayable(exemplars), side)


def _fitted(images: np.ndarray, side: int) -> np.ndarray:
    """uint8 `(..., h, w, 3)` shrunk (area-averaged) so its longer side is at most `side`: a
    deep unit's picture and patches can be the whole image, larger than a tile."""
    h, w = images.shape[-3:-1]
    if max(h, w) <= side:
        return images
    size = (max(1, round(w * side / max(h, w))), max(1, round(h * side / max(h, w))))
    flat = images.reshape(-1, h, w, 3)
    small = [np.asarray(Image.fromarray(x).resize(size, Image.Resampling.BOX)) for x in flat]
    return np.stack(small).reshape(*images.shape[:-3], size[1], size[0], 3)


def _scaled(image: np.ndarray, factor: int) -> np.ndarray:
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def _grid_shape(k: int) -> tuple[int, int]:
    cols = math.ceil(math.sqrt(k))
    return math.ceil(k / cols), cols


def _patch_scale(k: int, h: int, w: int) -> int:
    rows, cols = _grid_shape(k)
    return max(
        1,
        min(
            (EXEMPLAR_BLOCK - GAP * (rows + 1)) // (rows * h),
            (EXEMPLAR_BLOCK - GAP * (cols + 1)) // (cols * w),
        ),
    )


def _exemplar_block_size(patches: np.ndarray) -> tuple[int, int]:
    """Height and width of the grey block holding one filter's exemplars (a GAP all round)."""
    k, h, w = patches.shape[1:4]
    rows, cols = _grid_shape(k)
    scale = _patch_scale(k, h, w)
    return rows * h * scale + (rows + 1) * GAP, cols * w * scale + (cols + 1) * GAP


def _paste_block(canvas, patches: np.ndarray, origin: tuple[int, int]) -> None:
    """One filter's exemplars, laid out in numpy on the grey block and pasted in one go."""
    rows, cols = _grid_shape(len(patches))
    scale = _patch_scale(*patches.shape[:3])
    scaled = patches.repeat(scale, axis=1).repeat(scale, axis=2)  # (k, h, w, 3)
    h, w = scaled.shape[1:3]
    block = np.empty((rows * (h + GAP) - GAP, cols * (w + GAP) - GAP, 3), np.uint8)
    block[:] = EXEMPLAR_BACK
    for j, patch in enumerate(scaled):
        r, c = divmod(j, cols)
        block[r * (h + GAP) : r * (h + GAP) + h, c * (w + GAP) : c * (w + GAP) + w] = patch
    canvas.paste(Image.fromarray(block), origin)


def _header_lines(title: str, subtitle: str, width: int, small):
    """[(text, font, line height)]: the title, then the subtitle, each wrapped to `width` (an
    atlas of one filter is narrower than its title)."""
    big = default_font(16)
    lines = [(line, big, 22) for line in _wrapped(title, width - 2 * MARGIN, big)]
    return lines + [(line, small, 16) for line in _wrapped(subtitle, width - 2 * MARGIN, small)]


@functools.lru_cache(maxsize=64)  # every capture of a layer has the same subtitle and width
def _wrapped(text: str, width: int, font) -> tuple[str, ...]:
    """`text` in lines no wider than `width` pixels in `font` (a word longer stays whole)."""
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if probe.textlength(candidate, font=font) > width and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return tuple(lines)
