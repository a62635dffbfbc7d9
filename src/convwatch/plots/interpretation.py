"""Interpretation figures: one row per image, the image named by its true and predicted class
and their probabilities, then each map with a colour bar that says what its colour measures.

Matplotlib, because a map read without a numbered scale says nothing: a saliency map scaled to
its own maximum looks as hot on an image the model is sure of as on one it barely decides.
Arrays in, a matplotlib figure out (`atomic.write_figure` saves it); nothing here knows Keras.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from convwatch.plots.classification import RIGHT, WRONG
from convwatch.plots.figure import colormap, new_figure

# Sequential maps (>= 0) and signed ones (red: the evidence side, as on the sequential maps).
SEQUENTIAL, DIVERGING = "inferno", "RdBu_r"


@dataclass(frozen=True)
class MapColumn:
    """One map per image, and how the figure shows it.

    Attributes:
        maps: `(N, H, W)` values; or signed `(N, H, W, 3)` RGB gradients, shown as a picture
            with grey at 0 (`signed_image`) and no colour bar.
        title: the column's title, what the map is ("saliency").
        measure: what the colour measures, on the colour bar ("|gradient| of p(true)").
        diverging: signed values on a scale centred on 0, red positive, blue negative.
            Defaults to False: from 0 up.
        overlay: add a column with the map laid over the image. Defaults to False.
        outline: draw the object's outline (where the image is 10% of its range above its
            darkest pixel) over the map, to tell object from background. Defaults to False.
        empty: written on a map that is 0 everywhere, in place of a blank tile.
            Defaults to "all zero".
        clip: the scale ends at this percentile of |value| (larger values take the end
            colour, the bar says so with arrows). Defaults to 100: the largest.
    """

    maps: Any
    title: str
    measure: str
    diverging: bool = False
    overlay: bool = False
    outline: bool = False
    empty: str = "all zero"
    clip: float = 100.0


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


def signed_image(gradients: Any) -> np.ndarray:
    """Signed gradients `(N, H, W, C)` -> `(N, H, W, C)` in [0, 1]: 0.5 is zero, each image
    scaled so 3 standard deviations reach the ends (keras.io's deprocessing, 0.15 -> 0.5/3)."""
    g = np.asarray(gradients, np.float32)
    axes = tuple(range(1, g.ndim))
    g = g - g.mean(axis=axes, keepdims=True)
    g = g / (g.std(axis=axes, keepdims=True) + 1e-8) * (0.5 / 3)
    return np.clip(g + 0.5, 0, 1)


def _name(label: int, class_names: Sequence[str] | None) -> str:
    return str(class_names[label]) if class_names and 0 <= label < len(class_names) else str(label)


def row_label(
    label: int, probabilities: Any, class_names: Sequence[str] | None = None, score: str = "p"
) -> str:
    """ "true: Coat, p 0.12" over "predicted: Shirt, p 0.81" for one image's model outputs."""
    p = np.asarray(probabilities, np.float64).reshape(-1)
    predicted = int(p.argmax())
    return (
        f"true: {_name(label, class_names)}, {score} {p[label]:.2f}\n"
        f"predicted: {_name(predicted, class_names)}, {score} {p[predicted]:.2f}"
    )


def _as_maps(column: MapColumn, shape: tuple[int, ...]) -> np.ndarray:
    maps = np.asarray(column.maps, np.float32)
    if maps.ndim == 4 and maps.shape[-1] == 1:
        maps = maps[..., 0]
    if maps.shape[:3] != shape or maps.ndim not in (3, 4):
        raise ValueError(
            f"{column.title}: need one (H, W) map per image {shape}. Received: {maps.shape}"
        )
    return maps


def _limits(columns: Sequence[MapColumn], maps: Sequence[np.ndarray], row: int) -> tuple:
    """(low, high) of the row's shared scale: 0 up, or symmetric about 0 where one is signed;
    each map counts up to its `clip` percentile of |value|."""
    flat = [(c, np.abs(m[row])) for c, m in zip(columns, maps, strict=True) if m.ndim == 3]
    peak = max((float(np.percentile(a, c.clip)) for c, a in flat), default=0.0)
    peak = peak if peak > 0 else 1.0
    return (-peak, peak) if any(c.diverging for c, _ in flat) else (0.0, peak)


def interpretation_figure(
    images: Any,
    columns: Sequence[MapColumn],
    labels: Any,
    probabilities: Any,
    class_names: Sequence[str] | None = None,
    title: str = "",
    score: str = "p",
    panel: float = 1.8,
):
    """One row per image: the image (its true and predicted class and their probabilities above
    it, green when right, red when wrong), then each column's map with its colour bar.

    The maps of one row share one colour scale (so two occlusion patches compare directly);
    each row has its own, since a confident prediction's gradients are orders of magnitude
    smaller than an unsure one's. Pictures are drawn pixel for pixel (nearest neighbour),
    `panel` inches a side: at the 100 dpi of `atomic.write_figure`, a 28x28 image is shown
    at about 170 px (6 px a pixel).

    Args:
        images: `(N, H, W)` or `(N, H, W, 1|3)`, any range (each is scaled to [0, 1]).
        columns: the maps, in order (`MapColumn`).
        labels: true class ids `(N,)`.
        probabilities: the model's outputs `(N, K)`; the predicted class is their argmax.
        class_names: names for the class ids. Defaults to None: the ids.
        title: the figure's title (a line saying how to read it). Defaults to "".
        score: what the outputs are called in the labels ("p", or "score" for logits).
            Defaults to "p".
        panel: side of one picture, in inches. Defaults to 1.8.

    Returns:
        A matplotlib figure.
    """
    shown, labels, probs = _rows(images, labels, probabilities)
    maps = [_as_maps(c, shown.shape[:3]) for c in columns]
    widths, heads = _grid_columns(columns)
    size = (0.6 + panel * sum(widths) + 0.75 * len(columns), 0.9 + (panel + 0.35) * len(shown))
    fig, grid = new_figure(
        len(shown), len(widths), panel_size=(size[0] / len(widths), size[1] / len(shown)),
        squeeze=False, layout="constrained", gridspec_kw={"width_ratios": widths},
    )  # fmt: skip
    for row, axes in enumerate(grid):
        _image_tile(axes[0], shown[row], int(labels[row]), probs[row], class_names, score)
        _map_tiles(
            fig, axes[1:], columns, [m[row] for m in maps], shown[row], _limits(columns, maps, row)
        )
    for ax, head in zip(grid[0], heads, strict=True):
        if head:
            ax.set_title(head, fontsize=9)
    if title:  # wrapped to the figure's width (about 13 characters an inch at 10 pt)
        chars = max(20, int(size[0] * 13))
        lines = [textwrap.fill(line, chars) for line in title.splitlines()]
        fig.suptitle("\n".join(lines), fontsize=10)
    return fig


def _rows(images, labels, probabilities) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The images as RGB in [0, 1], the labels `(N,)` and the outputs `(N, K)`, checked."""
    shown = as_rgb(images)
    labels = np.asarray(labels).reshape(-1)
    probs = np.asarray(probabilities, np.float64)
    if len(labels) != len(shown) or probs.shape[:1] != (len(shown),):
        raise ValueError(
            f"need a label and outputs per image. Received: images {shown.shape}, "
            f"labels {labels.shape}, probabilities {probs.shape}"
        )
    return shown, labels, probs


def _grid_columns(columns: Sequence[MapColumn]) -> tuple[list[float], list[str]]:
    """Width ratios and titles of the grid's columns: the image, then per map its tile, its
    colour bar and maybe its overlay. The image's title is its row's label, so no head."""
    widths, heads = [1.0], [""]
    for column in columns:
        widths += [1.0, 0.07] + [1.0] * column.overlay
        heads += [column.title, ""] + ["over the image"] * column.overlay
    return widths, heads


def _map_tiles(fig, axes, columns: Sequence[MapColumn], values, image, limits) -> None:
    """One row's maps, each with its colour bar (and overlay), left to right from `axes[0]`."""
    k = 0
    for column, value in zip(columns, values, strict=True):
        _map_tile(fig, axes[k], axes[k + 1], column, value, image, limits)
        if column.overlay:
            _overlay_tile(axes[k + 2], column, value, image, limits)
        k += 2 + column.overlay


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _image_tile(ax, image, label: int, probabilities, class_names, score: str) -> None:
    """The image, its row's label above it: green when the prediction is right, red if not."""
    ax.imshow(image, interpolation="nearest")
    _bare(ax)
    right = probabilities.argmax() == label
    text = row_label(label, probabilities, class_names, score)
    ax.set_title(text, fontsize=8, color=RIGHT if right else WRONG)


def _map_tile(fig, ax, cax, column: MapColumn, values, image, limits) -> None:
    """The map on the row's scale, its colour bar in `cax`, the outline and the empty note."""
    import matplotlib.ticker as ticker  # heavy, as in figure.py

    _bare(ax)
    if not np.any(values):
        _say(ax, column.empty)
    if values.ndim == 3:  # signed RGB gradients: a picture, grey = 0, no scale to draw
        ax.imshow(signed_image(values[None])[0], interpolation="nearest")
        ax.set_xlabel(f"{column.measure}\n(grey: 0)", fontsize=7)
        cax.axis("off")
        return
    cmap = DIVERGING if column.diverging else SEQUENTIAL
    drawn = ax.imshow(values, cmap=cmap, vmin=limits[0], vmax=limits[1], interpolation="nearest")
    extend = "neither"  # arrows on the bar where values run past its ends (`clip`)
    if np.abs(values).max() > limits[1]:
        extend = "both" if column.diverging else "max"
    bar = fig.colorbar(drawn, cax=cax, extend=extend)
    bar.set_label(column.measure, fontsize=7)
    bar.ax.tick_params(labelsize=7)
    bar.locator = ticker.MaxNLocator(5)
    bar.formatter = ticker.FuncFormatter(lambda v, _: f"{v:.2g}")  # no "1e-6" floating above
    bar.update_ticks()
    if column.outline and np.ptp(image) > 0:
        gray = image.mean(axis=-1)
        ax.contour(gray, levels=[gray.min() + 0.1 * np.ptp(gray)], colors="k", linewidths=0.7)


def _overlay_tile(ax, column: MapColumn, values, image, limits) -> None:
    """The image, with the map's colour laid on where the map is strong (opacity = |value|)."""
    ax.imshow(image, interpolation="nearest")
    _bare(ax)
    if not np.any(values):
        _say(ax, column.empty)
    if values.ndim != 2 or not np.any(values):
        return
    cmap = colormap(DIVERGING if column.diverging else SEQUENTIAL)
    low, high = limits
    rgba = cmap(np.clip((values - low) / (high - low), 0, 1))
    rgba[..., 3] = 0.85 * np.clip(np.abs(values) / high, 0, 1)
    ax.imshow(rgba, interpolation="nearest")


def _say(ax, text: str) -> None:
    box = {"facecolor": "white", "edgecolor": "0.5", "alpha": 0.9, "pad": 3}
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=8, bbox=box)
