"""Matplotlib set up for files, not screens: the Agg backend, chosen before pyplot loads.

Matplotlib is imported here, inside the functions, and nowhere else in `plots/` at module level:
it takes a good part of a second, and `import convwatch` must not pay it."""

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


def colormap(name: str) -> Any:
    """Matplotlib's colour map `name` (matplotlib loads here, when a picture needs colours)."""
    import matplotlib

    return matplotlib.colormaps[name]
