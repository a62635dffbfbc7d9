"""Pictures made by optimising an image (Deep Dream, style transfer): the images side by side
under their titles, and the loss of each step. Arrays in, matplotlib figures out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from convwatch.plots.figure import new_figure


def _display(image: Any) -> np.ndarray:
    x = np.clip(np.asarray(image, np.float32), 0.0, 1.0)
    return x[..., 0] if x.ndim == 3 and x.shape[-1] == 1 else x


def image_columns(columns: Mapping[str, Any], title: str = "", panel_width: float = 4.0) -> Any:
    """One column per entry of `columns` (title -> `(N, H, W, C)` images in [0, 1], same N),
    one row per image; images of different sizes are each shown whole."""
    arrays = [np.asarray(v, np.float32) for v in columns.values()]
    rows = {len(a) for a in arrays}
    if not arrays or len(rows) != 1 or any(a.ndim != 4 for a in arrays):
        shapes = {k: np.shape(v) for k, v in columns.items()}
        raise ValueError(f"columns must be (N, H, W, C) with one N for all. Received: {shapes}")
    (count,) = rows
    height, width = arrays[0].shape[1:3]
    panel = (panel_width, panel_width * height / width + 0.4)
    figure, axes = new_figure(count, len(arrays), panel, squeeze=False)
    for col, (name, images) in enumerate(zip(columns, arrays, strict=True)):
        for row in range(count):
            ax = axes[row][col]
            ax.imshow(_display(images[row]), cmap="gray", vmin=0, vmax=1)
            ax.set_axis_off()
            if row == 0:
                ax.set_title(name, fontsize=10)
    if title:
        figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    return figure


def loss_curves(
    losses: Mapping[str, Sequence[float]],
    title: str = "",
    log: bool = True,
    ylabel: str = "loss",
) -> Any:
    """Each named loss against the optimisation step (log scale where every value is > 0)."""
    figure, ax = new_figure(1, 1, (6.0, 3.6))
    positive = True
    for name, values in losses.items():
        values = np.asarray(values, np.float64)
        positive &= bool(np.all(values > 0))
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    if log and positive:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=11)
    figure.tight_layout()
    return figure
