"""Pictures of how alike two networks are: a CKA heatmap of their layers, and matched filters
side by side (the atlas tile of a filter of A beside the tile of its match in B)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from convwatch.plots.figure import new_figure
from convwatch.plots.filter_atlas import atlas_tile
from convwatch.plots.frames import default_font


def cka_heatmap(
    matrix,
    rows: Sequence[str],
    cols: Sequence[str],
    same: Mapping[str, str],
    row_label: str,
    col_label: str,
    title: str,
):
    """A figure of `matrix[i, j]` (CKA of layer `rows[i]` of one network and `cols[j]` of the
    other) on a fixed 0-1 scale, each cell written out, the cells of corresponding layers
    (`same`: row layer -> column layer) boxed."""
    matrix = np.asarray(matrix, dtype=float)
    side = max(3.2, 0.55 * max(len(rows), len(cols)) + 1.6)
    width = max(5.6, side * max(1.0, len(cols) / max(len(rows), 1)) + 1.0)
    figure, ax = new_figure(1, 1, (width, side))
    image = ax.imshow(matrix, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    ax.set_title(title, fontsize=10)
    for i in range(len(rows)):
        for j in range(len(cols)):
            value = matrix[i, j]
            text = "n/a" if not np.isfinite(value) else f"{value:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="black" if np.isfinite(value) and value > 0.6 else "white")  # fmt: skip
            if same.get(rows[i]) == cols[j]:
                ax.add_patch(_box(i, j))
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="linear CKA")
    figure.tight_layout()
    return figure


def _box(i: int, j: int):
    from matplotlib.patches import Rectangle

    return Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.5)


@dataclass(frozen=True)
class Tile:
    """One filter as the atlas drew it: its picture `(h, w, C)` and exemplars (or None), both in
    [0, 1], and its index."""

    index: int
    picture: np.ndarray
    exemplars: np.ndarray | None = None
    dead: bool = False  # never above 0 on the probe set


MARGIN = 10
LINK_W = 96  # the gap between the two tiles of a pair, where their correlation is written
ONLY_FILL = (250, 236, 214)
FRAME = 4  # around a pair, inside its outline
FRAME_EDGE = (150, 150, 150)
PAIR_GAP = 24
ALONE_TEXT = (170, 80, 0)


def _label(name: str, tile: Tile) -> str:
    return f"{name} · filter {tile.index}" + (" · dead" if tile.dead else "")


def matched_filters(
    pairs: Sequence[tuple[Tile | None, Tile | None, float]],
    names: tuple[str, str],
    title: str,
    threshold: float = 0.5,
    cols: int | None = None,
) -> np.ndarray:
    """Pairs of atlas tiles, in the order given: A's filter, its correlation, its match in B.

    Args:
        pairs: `(tile of A or None, tile of its match in B or None, correlation)`; a pair
            below `threshold` (or with either side missing: a filter left over where one
            layer has more) is drawn on orange, each of its filters "only in" its network.
        names: how the two networks are called in the labels, e.g. ("run #1", "run #2").
        title: the header line.
        cols: pairs per row. Defaults to 2 for up to 16 pairs, else 3.

    Returns:
        uint8 `(H, W, 3)`.
    """
    if not pairs or any(a is None and b is None for a, b, _ in pairs):
        raise ValueError("matched_filters needs at least one pair, each with at least one tile.")
    drawn = []
    for a, b, r in pairs:
        alone = a is None or b is None or not np.isfinite(r) or r < threshold
        fill = ONLY_FILL if alone else (238, 238, 238)
        tiles = [
            None if t is None else atlas_tile(t.picture, t.exemplars, _label(name, t), fill)
            for t, name in ((a, names[0]), (b, names[1]))
        ]
        drawn.append((tiles, r, alone))
    tile_h = max(t.shape[0] for tiles, _, _ in drawn for t in tiles if t is not None)
    tile_w = max(t.shape[1] for tiles, _, _ in drawn for t in tiles if t is not None)
    pair_w = 2 * tile_w + LINK_W + 2 * FRAME
    cols = cols or (2 if len(pairs) <= 16 else 3)
    cols = max(1, min(cols, len(pairs)))
    rows = math.ceil(len(pairs) / cols)
    header_h = 2 * MARGIN + 22
    width = MARGIN + cols * (pair_w + PAIR_GAP)
    pair_h = tile_h + 2 * FRAME
    canvas = Image.new("RGB", (width, header_h + rows * (pair_h + MARGIN) + MARGIN), "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((MARGIN, MARGIN), title, fill="black", font=default_font(16))
    for n, (tiles, r, alone) in enumerate(drawn):
        row, col = divmod(n, cols)
        x0 = MARGIN + col * (pair_w + PAIR_GAP)
        y0 = header_h + row * (pair_h + MARGIN)
        draw.rectangle([x0, y0, x0 + pair_w - 1, y0 + pair_h - 1], outline=FRAME_EDGE, width=1)
        _pair(canvas, draw, (x0 + FRAME, y0 + FRAME), (tile_w, tile_h), tiles, r, alone, names)
    return np.asarray(canvas)


def _pair(canvas, draw, xy, tile_size, tiles, r: float, alone: bool, names) -> None:
    """One pair inside its frame: A's tile, the correlation between, B's tile."""
    (x0, y0), (tile_w, tile_h) = xy, tile_size
    for t, x in zip(tiles, (x0, x0 + tile_w + LINK_W), strict=True):
        if t is not None:
            canvas.paste(Image.fromarray(t), (x, y0))
    middle, centre = x0 + tile_w + 6, y0 + tile_h // 2
    score = "no match" if not np.isfinite(r) else f"r {r:.2f}"
    draw.text((middle, centre - 22), score, fill="black", font=default_font(13))
    if alone:
        for k, (t, name) in enumerate(zip(tiles, names, strict=True)):
            if t is not None:
                where = (middle, centre - 2 + 14 * k)
                draw.text(where, f"only in {name}", fill=ALONE_TEXT, font=default_font(11))
