"""Figure builders: arrays in, matplotlib figures out; nothing here knows Keras."""

from convwatch.plots.curves import plot_history
from convwatch.plots.figure import new_figure

__all__ = ["new_figure", "plot_history"]
