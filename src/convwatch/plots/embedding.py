"""Pictures of an embedding: 2-D maps (t-SNE/PCA coordinates), GIF frames of a map epoch by
epoch, images at their points, and nearest-neighbour strips.

Arrays in (coordinates, labels, images, neighbour indices), uint8 images out, drawn with
Pillow: none of these pictures has axes to read, and a capture draws them every epoch, so
they cost milliseconds, not a matplotlib figure's tenths of a second. The projection and the
neighbour search are computed elsewhere (`techniques/`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from convwatch.plots.figure import colormap
from convwatch.plots.frames import default_font


def _label_name(label: Any, class_names: Sequence[str] | None) -> str:
    if class_names is not None and 0 <= int(label) < len(class_names):
        return str(class_names[int(label)])
    return str(label)


def _as_unit_images(images: Any) -> np.ndarray:
    """uint8 or [0, 1] float images as float32 in [0, 1], a trailing 1-channel squeezed."""
    x = np.asarray(images)
    x = x / 255.0 if x.dtype == np.uint8 else np.clip(x.astype(np.float32), 0.0, 1.0)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] != 3):
        raise ValueError(f"`images` must be (n, H, W) or (n, H, W, 1|3). Received: {x.shape}")
    return x.astype(np.float32)


MAP_SIZE = (640, 480)  # a map's PNG, in pixels
FRAME_SIZE = (512, 384)  # a frame of a map's GIF
SUPERSAMPLE = 3  # dots are drawn this many times larger, then scaled down: smooth edges
DOT_ALPHA = 190  # of 255: a dense cluster still shows where its dots overlap


def map_image(
    coords: Any,
    labels: Any,
    class_names: Sequence[str] | None = None,
    title: str = "",
    limits: tuple[float, float, float, float] | None = None,
    size: tuple[int, int] = MAP_SIZE,
    dot: float = 2.5,
    smooth: bool = True,
) -> np.ndarray:
    """A 2-D map `coords` `(n, 2)` as a uint8 RGB image: one dot per point, one colour per class
    of `labels` `(n,)`, a legend on the right, `title` above.

    No axes: t-SNE coordinates have no units, and a PCA map's are not read off either, so the
    map is drawn straight with Pillow (a few milliseconds, against ~0.15 s for a matplotlib
    scatter). y points up, as in `thumbnail_map`. The dots are drawn in the order of the points
    (a shuffled test set mixes the classes), slightly transparent.

    Args:
        coords: `(n, 2)`.
        labels: `(n,)` class ids.
        class_names: names for the class ids, for the legend.
        title: the line above the map.
        limits: `(x0, x1, y0, y1)` the map's area shows; defaults to `map_limits([coords])`.
            One set of limits for several maps keeps them comparable (`map_frames`).
        size: `(width, height)` in pixels. Defaults to `MAP_SIZE`.
        dot: dot radius in pixels.
        smooth: smooth-edged, slightly transparent dots (the default). False: solid dots with
            hard edges, in the classes' colours only, so that a GIF keeps every colour exactly
            (and is quantised in a fraction of the time).
    """
    coords, labels = _checked_map(coords, labels)
    width, height = size
    classes = np.unique(labels)
    colours = _class_colours(len(classes))
    names = [_label_name(c, class_names) for c in classes]
    text_px = max(10, height // 32)
    font, title_font = default_font(text_px), default_font(round(text_px * 1.25))
    legend_w = _legend_width(names, font, text_px)
    top = round(text_px * 2.4) if title else text_px // 2
    box = (text_px // 2, top, width - legend_w - text_px, height - text_px // 2)
    if box[2] - box[0] < 16 or box[3] - box[1] < 16:
        raise ValueError(f"`size` {size} leaves no room for the map beside its legend.")
    x0, x1, y0, y1 = limits if limits is not None else map_limits([coords])
    image = Image.new("RGB", (width, height), "white")
    image.paste(
        _dots(coords, labels, classes, colours, (x0, x1, y0, y1), box, dot, smooth),
        (box[0], box[1]),
    )
    draw = ImageDraw.Draw(image)
    draw.rectangle(box, outline=(200, 200, 200))
    if title:
        draw.text(
            (box[0], text_px // 2),
            _fitted(title, title_font, width - text_px),
            "black",
            font=title_font,
        )
    _draw_legend(draw, names, colours, (box[2] + text_px // 2, box[1]), font, text_px)
    return np.asarray(image)


def map_limits(maps: Sequence[Any], margin: float = 0.04) -> tuple[float, float, float, float]:
    """`(x0, x1, y0, y1)` holding every point of every map `(n, 2)`, `margin` of the span
    added on each side: the one set of axes limits for all the frames of a GIF."""
    points = np.concatenate([np.asarray(m, dtype=np.float64).reshape(-1, 2) for m in maps])
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum((high - low) * margin, 1e-12)
    return (
        float(low[0] - pad[0]),
        float(high[0] + pad[0]),
        float(low[1] - pad[1]),
        float(high[1] + pad[1]),
    )


def map_frames(
    maps: Sequence[Any],
    labels: Any,
    titles: Sequence[str],
    class_names: Sequence[str] | None = None,
    size: tuple[int, int] = FRAME_SIZE,
    dot: float = 2.0,
) -> list[np.ndarray]:
    """The 2-D maps of the same points (one per epoch) as uint8 RGB frames for a GIF.

    Every frame has the same size, the same limits (`map_limits` of all the maps: never
    rescaled per frame), the same colour for a class (one legend for all) and its own title
    (`titles`, e.g. naming the epoch): `map_image` of each map, with solid dots (a GIF's
    palette holds their colours exactly).
    """
    if len(titles) != len(maps):
        raise ValueError(f"need one title per map. Received: {len(maps)} maps, {len(titles)}")
    checked = [_checked_map(m, labels)[0] for m in maps]
    limits = map_limits(checked)
    return [
        map_image(coords, labels, class_names, title, limits, size, dot, smooth=False)
        for coords, title in zip(checked, titles, strict=True)
    ]


def _class_colours(count: int) -> list[tuple[int, int, int]]:
    """tab10 (tab20 past 10 classes, repeating past 20), as the other figures colour classes."""
    cmap = colormap("tab10" if count <= 10 else "tab20")
    return [
        tuple(int(round(255 * v)) for v in cmap(i % cmap.N)[:3])  # type: ignore[misc]
        for i in range(count)
    ]


def _dots(coords, labels, classes, colours, limits, box, dot: float, smooth: bool):
    """The map's area: a dot per point (smooth: at `SUPERSAMPLE` x, scaled down to the box)."""
    x0, x1, y0, y1 = limits
    w, h = box[2] - box[0], box[3] - box[1]
    k = SUPERSAMPLE if smooth else 1
    area = Image.new("RGB", (w * k, h * k), "white")
    draw = ImageDraw.Draw(area, "RGBA")
    span = np.array([max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)])
    unit = (coords.astype(np.float64) - [x0, y0]) / span
    px = unit[:, 0] * (w * k - 1)
    py = (1 - unit[:, 1]) * (h * k - 1)  # y up
    r = dot * k
    index = np.searchsorted(classes, labels)
    fills = [(*c, DOT_ALPHA if smooth else 255) for c in colours]
    for x, y, i in zip(px, py, index, strict=True):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fills[i])
    return area.reduce(k) if k > 1 else area


def _legend_width(names: Sequence[str], font, text_px: int) -> int:
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widest = max(probe.textlength(n, font=font) for n in names)
    return int(widest) + 2 * text_px


def _draw_legend(draw, names, colours, origin, font, text_px: int) -> None:
    """A disc of each class's colour and its name, one class a line, from `origin` down."""
    x, y = origin
    line = round(text_px * 1.5)
    r = text_px * 0.35
    for name, colour in zip(names, colours, strict=True):
        cy = y + line / 2
        draw.ellipse((x, cy - r, x + 2 * r, cy + r), fill=colour)
        draw.text((x + text_px, cy), name, "black", font=font, anchor="lm")
        y += line


def _fitted(text: str, font, width: int) -> str:
    """`text`, cut with an ellipsis where it is wider than `width` pixels."""
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    if probe.textlength(text, font=font) <= width:
        return text
    while text and probe.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _checked_map(coords: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    coords, labels = np.asarray(coords, dtype=np.float32), np.asarray(labels).reshape(-1)
    if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) != len(labels):
        raise ValueError(
            f"`coords` must be (n, 2) and `labels` (n,). Received: {coords.shape}, {labels.shape}"
        )
    return coords, labels


def thumbnail_map(
    coords: Any, images: Any, size: int = 800, thumb: int | None = None
) -> np.ndarray:
    """Small copies of `images` placed at their 2-D `coords` on a white square canvas.

    Coordinates are scaled to fill the canvas (each thumbnail fully inside it) with y pointing
    **up**, as in a scatter plot: the smallest x is at the left edge, the smallest y at the
    bottom. Later images are drawn over earlier ones. Thumbnails are resized by nearest
    neighbour, keeping their aspect ratio.

    Args:
        coords: `(n, 2)`.
        images: `(n, H, W)` or `(n, H, W, 1|3)`, uint8 or floats in [0, 1].
        size: canvas side in pixels. Defaults to 800.
        thumb: the long side of a thumbnail in pixels. Defaults to `size // 25` (32 at 800).

    Returns:
        uint8 `(size, size)` for gray images (no trailing 1-channel), `(size, size, 3)` for RGB.
    """
    coords = np.asarray(coords, dtype=np.float64)
    x = _as_unit_images(images)
    if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) != len(x):
        raise ValueError(
            f"`coords` must be (n, 2), one row per image. Received: {coords.shape}, {x.shape}"
        )
    thumb = int(thumb or max(4, size // 25))
    if not 0 < thumb <= size:
        raise ValueError(f"`thumb` must be in 1..size. Received: thumb={thumb}, size={size}")
    h, w = x.shape[1:3]
    th, tw = max(1, round(thumb * h / max(h, w))), max(1, round(thumb * w / max(h, w)))
    # Nearest-neighbour resize of all images at once, by index arrays.
    x = x[:, (np.arange(th) * h // th)][:, :, (np.arange(tw) * w // tw)]
    thumbs = np.round(x * 255).astype(np.uint8)

    canvas = np.full((size, size, *x.shape[3:]), 255, np.uint8)
    if len(coords) == 0:
        return canvas
    low, span = coords.min(axis=0), np.ptp(coords, axis=0)
    unit = np.where(span > 0, (coords - low) / np.where(span > 0, span, 1), 0.5)
    lefts = np.round(unit[:, 0] * (size - tw)).astype(int)
    tops = np.round((1 - unit[:, 1]) * (size - th)).astype(int)  # y up: row 0 is the largest y
    for t, left, top in zip(thumbs, lefts, tops, strict=True):
        canvas[top : top + th, left : left + tw] = t
    return canvas


PANEL = 84  # about the side of a panel of the neighbour strips, in pixels
QUERY_EDGE = 3  # the frame around a query, in pixels
QUERY_COLOUR = (230, 120, 0)  # orange, as the atlas outlines its pictures: seen on black and white


def neighbour_strips(
    images: Any,
    queries: Any,
    neighbours: Any,
    labels: Any = None,
    class_names: Sequence[str] | None = None,
    title: str = "",
    panel: int = PANEL,
) -> np.ndarray:
    """One row per query: the query image (framed in orange), then its k nearest neighbours,
    left to right; a uint8 RGB image drawn with Pillow.

    Args:
        images: `(n, H, W)` or `(n, H, W, 1|3)`, uint8 or floats in [0, 1].
        queries: `(q,)` indices into `images`.
        neighbours: `(q, k)` indices into `images`, nearest first.
        labels: `(n,)` class of each image; when given, every panel is headed with its class,
            and a neighbour whose class differs from its query's is headed in red.
        class_names: names for the label values.
        title: the line above the strips.
        panel: about the side of a panel in pixels; images are scaled by a whole factor
            (nearest neighbour, so each pixel is a visible square), at least 1.
    """
    x = _as_unit_images(images)
    queries = np.asarray(queries, dtype=int).reshape(-1)
    neighbours = np.asarray(neighbours, dtype=int).reshape(len(queries), -1)
    q, k = neighbours.shape
    h, w = x.shape[1:3]
    scale = max(1, round(panel / max(h, w)))
    ph, pw = h * scale, w * scale
    text_px = max(10, min(14, pw // 6))
    font = default_font(text_px)
    gap = max(4, pw // 8)
    head = round(text_px * 1.6) if labels is not None else gap
    title_h = round(text_px * 2.2) if title else 0
    width = gap + (k + 1) * (pw + gap) + gap  # an extra gap sets the query apart
    height = title_h + q * (head + ph) + gap
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((gap, text_px // 2), _fitted(title, font, width - 2 * gap), "black", font=font)
    tiles = np.round(x * 255).astype(np.uint8)
    for row, (query, near) in enumerate(zip(queries, neighbours, strict=True)):
        top = title_h + row * (head + ph) + head
        for col, index in enumerate([query, *near]):
            left = gap + col * (pw + gap) + (gap if col else 0)
            tile = Image.fromarray(tiles[index].squeeze()).convert("RGB")
            image.paste(tile.resize((pw, ph), Image.NEAREST), (left, top))
            name = None if labels is None else _label_name(labels[index], class_names)
            same = labels is None or labels[index] == labels[query]
            _head_panel(draw, (left, top, pw, ph), col == 0, name, same, font)
    return np.asarray(image)


def _head_panel(draw, panel, query: bool, name: str | None, same: bool, font) -> None:
    """A query's orange frame; above a panel, its class (red: not its query's)."""
    left, top, pw, ph = panel
    e = QUERY_EDGE
    if query:
        box = (left - e, top - e, left + pw + e - 1, top + ph + e - 1)
        draw.rectangle(box, outline=QUERY_COLOUR, width=e)
    if name is None:
        return
    text = f"query: {name}" if query else name
    colour = "black" if query or same else (200, 0, 0)
    where = (left + pw / 2, top - e - 2)
    draw.text(where, _fitted(text, font, pw + 2 * e), colour, font=font, anchor="ms")
