"""Pictures of an embedding: 2-D maps (t-SNE/PCA coordinates), GIF frames of a map epoch by
epoch, and nearest-neighbour strips.

Arrays in (coordinates, labels, images, neighbour indices), figures or uint8 images out; the
projection and the neighbour search are computed elsewhere (`techniques/`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from convwatch.plots.figure import colormap


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


def scatter_figure(
    coords: Any,
    labels: Any,
    class_names: Sequence[str] | None = None,
    title: str = "",
    point_size: float = 8.0,
):
    """A scatter of 2-D `coords` `(n, 2)`, one colour per class of `labels` `(n,)`, with a legend.

    The legend sits outside the axes on the right, so it never hides points; the axes have no
    ticks (t-SNE coordinates have no units). y points up, as in `thumbnail_map`. The figure is
    a plain Agg `Figure`, not one of pyplot's: it can be drawn on a background thread.
    """
    coords, labels = _checked_map(coords, labels)
    fig = _agg_figure((7.5, 6.0))
    ax = fig.subplots()
    _scatter_classes(ax, coords, labels, np.unique(labels), class_names, point_size)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


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
    size: tuple[float, float] = (6.4, 4.8),
    dpi: int = 80,
    point_size: float = 6.0,
) -> list[np.ndarray]:
    """The 2-D maps of the same points (one per epoch) as uint8 RGB frames for a GIF.

    Every frame has the same size, the same axes limits (`map_limits` of all the maps: never
    rescaled per frame), the same colour for a class (one legend for all) and its own title
    (`titles`, e.g. naming the epoch). One figure draws them all: each frame only moves the
    points and redraws, at `dpi` (80: 512 x 384 pixels for the default `size`).
    """
    if len(titles) != len(maps):
        raise ValueError(f"need one title per map. Received: {len(maps)} maps, {len(titles)}")
    checked = [_checked_map(m, labels)[0] for m in maps]
    labels = np.asarray(labels).reshape(-1)
    classes = np.unique(labels)
    fig = _agg_figure(size, dpi)
    ax = fig.subplots()
    dots = _scatter_classes(ax, checked[0], labels, classes, class_names, point_size)
    x0, x1, y0, y1 = map_limits(checked)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    fig.subplots_adjust(left=0.02, right=0.76, bottom=0.03, top=0.91)  # fixed: no per-frame jitter
    heading = ax.set_title(titles[0])
    frames = []
    for coords, title in zip(checked, titles, strict=True):
        for c, collection in zip(classes, dots, strict=True):
            collection.set_offsets(coords[labels == c])
        heading.set_text(title)
        fig.canvas.draw()
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    return frames


def _checked_map(coords: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    coords, labels = np.asarray(coords, dtype=np.float32), np.asarray(labels).reshape(-1)
    if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) != len(labels):
        raise ValueError(
            f"`coords` must be (n, 2) and `labels` (n,). Received: {coords.shape}, {labels.shape}"
        )
    return coords, labels


def _agg_figure(size: tuple[float, float], dpi: int = 100):
    """A matplotlib `Figure` on its own Agg canvas, outside pyplot's global figure list (which
    is not for threads). Agg is chosen for pyplot too, as `new_figure` does, should
    `atomic.write_figure` be the first to load pyplot."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _scatter_classes(ax, coords, labels, classes, class_names, point_size: float) -> list:
    """One scatter per class of `classes` (colour by its place there), no ticks, a legend on
    the right; returns the scatters (one `PathCollection` per class)."""
    colours = colormap("tab10" if len(classes) <= 10 else "tab20")
    dots = []
    for i, c in enumerate(classes):
        mask = labels == c
        dots.append(
            ax.scatter(
                coords[mask, 0],
                coords[mask, 1],
                s=point_size,
                color=colours(i % colours.N),
                alpha=0.75,
                linewidths=0,
                label=_label_name(c, class_names),
            )
        )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        markerscale=max(1.0, 30 / point_size) ** 0.5,
        frameon=False,
        fontsize=9,
    )
    return dots


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


def neighbour_strips_figure(
    images: Any,
    queries: Any,
    neighbours: Any,
    labels: Any = None,
    class_names: Sequence[str] | None = None,
    title: str = "",
    panel: float = 1.3,
):
    """One row per query: the query image, then its k nearest neighbours, left to right.

    Args:
        images: `(n, H, W)` or `(n, H, W, 1|3)`, uint8 or floats in [0, 1].
        queries: `(q,)` indices into `images`.
        neighbours: `(q, k)` indices into `images`, nearest first.
        labels: `(n,)` class of each image; when given, every panel is titled with its class
            and a neighbour whose class differs from its query's is titled in red.
        class_names: names for the label values.
        title: the figure's title.
        panel: inches per image. Defaults to 1.3.
    """
    x = _as_unit_images(images)
    queries = np.asarray(queries, dtype=int).reshape(-1)
    neighbours = np.asarray(neighbours, dtype=int).reshape(len(queries), -1)
    q, k = neighbours.shape
    canvas, spots = _strips(x, queries, neighbours)
    # One image on one axes, not q * (k + 1) axes: the figure draws in a fraction of the time.
    fig = _agg_figure((panel * (k + 1.3), (panel + 0.25) * max(q, 1)))
    ax = fig.subplots()
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    _name_panels(ax, spots, x.shape[1:3], labels, class_names)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _strips(x: np.ndarray, queries: np.ndarray, neighbours: np.ndarray):
    """The strips on one white canvas, and per panel `(row, col, index, query, left, top)`."""
    q, k = neighbours.shape
    h, w = x.shape[1:3]
    gap, head = max(2, w // 6), max(4, h // 3)  # white between panels; room for the titles
    rgb = x.ndim == 4 and x.shape[-1] == 3
    canvas = np.ones((q * (h + head), (k + 1) * w + k * gap + gap, *((3,) if rgb else ())))
    spots = []
    for row, (query, near) in enumerate(zip(queries, neighbours, strict=True)):
        top = row * (h + head) + head
        for col, index in enumerate([query, *near]):
            left = col * (w + gap) + (gap if col else 0)
            tile = x[index][..., 0] if (x.ndim == 4 and not rgb) else x[index]
            canvas[top : top + h, left : left + w] = tile
            spots.append((row, col, index, query, left, top))
    return canvas, spots


def _name_panels(ax, spots, size: tuple[int, int], labels, class_names) -> None:
    """Frame the queries; title each panel with its class, red where a neighbour's differs."""
    h, w = size
    for _row, col, index, query, left, top in spots:
        name = "" if labels is None else _label_name(labels[index], class_names)
        if col == 0:
            text, colour, weight = (f"query: {name}" if name else "query"), "black", "bold"
            ax.add_patch(_frame(left, top, w, h))
        elif name:
            same = labels[index] == labels[query]
            text, colour, weight = name, ("black" if same else "red"), "normal"
        else:
            continue
        ax.text(
            left + w / 2,
            top - 1,
            text,
            ha="center",
            va="bottom",
            fontsize=9,
            color=colour,
            weight=weight,
        )


def _frame(left: int, top: int, w: int, h: int):
    from matplotlib.patches import Rectangle  # heavy, as in figure.py

    return Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor="black", linewidth=2.5)
