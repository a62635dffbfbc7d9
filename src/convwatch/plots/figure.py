"""Matplotlib set up for files, not screens: the Agg backend, chosen before pyplot loads."""

from __future__ import annotations

from typing import Any


def new_figure(
    rows: int, cols: int, panel_size: tuple[float, float] = (3.0, 3.0), **kwargs: Any
) -> tuple[Any, Any]:
    """`plt.subplots` on the Agg backend, sized per panel."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    size = (panel_size[0] * cols, panel_size[1] * rows)
    return plt.subplots(rows, cols, figsize=size, **kwargs)
