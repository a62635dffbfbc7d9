"""Matplotlib set up for files, not screens: plain `Figure` objects, never pyplot's.

Matplotlib is imported here, inside the functions, and nowhere else in `plots/` at module level:
it takes a good part of a second, and `import convwatch` must not pay it."""

from __future__ import annotations

from typing import Any


def new_figure(
    rows: int, cols: int, panel_size: tuple[float, float] = (3.0, 3.0), **kwargs: Any
) -> tuple[Any, Any]:
    """A figure and its axes (as `plt.subplots` returns them), sized per panel.

    The figure is a plain `matplotlib.figure.Figure`, never registered with pyplot: pyplot's
    global state is not thread-safe, and captures draw on background threads."""
    from matplotlib.figure import Figure

    axes_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in _SUBPLOTS_KWARGS}
    figure = Figure(figsize=(panel_size[0] * cols, panel_size[1] * rows), **kwargs)
    return figure, figure.subplots(rows, cols, **axes_kwargs)


# What `plt.subplots` hands to `Figure.subplots`; the rest of its keywords go to the figure.
_SUBPLOTS_KWARGS = frozenset(
    {"sharex", "sharey", "squeeze", "width_ratios", "height_ratios", "subplot_kw", "gridspec_kw"}
)


def colormap(name: str) -> Any:
    """Matplotlib's colour map `name` (matplotlib loads here, when a picture needs colours)."""
    import matplotlib

    return matplotlib.colormaps[name]
