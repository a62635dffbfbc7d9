"""Training curves: one panel per metric, the training and validation lines on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from convwatch.plots.figure import new_figure


def plot_history(history: Mapping[str, Sequence[float]], title: str = "") -> object:
    """A figure of `history` (Keras `History.history`-style: name -> one value per epoch).

    `val_x` is drawn on the same panel as `x`; the epoch axis counts from 1.
    """
    names = [k for k in history if not k.startswith("val_") and k != "epoch"]
    names += [k[4:] for k in history if k.startswith("val_") and k[4:] not in names]
    fig, axes = new_figure(1, max(len(names), 1), panel_size=(4.5, 3.4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=False):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            values = history.get(key)
            if values:
                ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
