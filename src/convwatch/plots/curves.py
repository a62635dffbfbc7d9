"""Training curves: one panel per metric with the training and validation lines on it, for one
run (`plot_history`) or for every run of a sweep on shared axes (`sweep_curves_figure`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from convwatch.plots.figure import new_figure


def _epoch_axis(ax, epochs: int) -> None:
    """Epochs are whole numbers: a tick at each of up to 12 epochs, else integer ticks only
    (so a one-epoch run is not drawn on an axis from 0.96 to 1.04)."""
    from matplotlib.ticker import MaxNLocator

    if 0 < epochs <= 12:
        ax.set_xticks(range(1, epochs + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")


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
        _epoch_axis(ax, max((len(history.get(k) or []) for k in (name, f"val_{name}")), default=0))
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def sweep_curves_figure(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    metrics: Sequence[str] = ("loss", "accuracy"),
    title: str = "",
):
    """Every run of a sweep on shared axes: one panel per metric and split (train, validation).

    Args:
        histories: run label -> Keras-style history (metric name -> one value per epoch).
        metrics: the metrics to draw; a panel whose metric no run has is left out.
    """
    keys = [
        k for m in metrics for k in (m, f"val_{m}") if any(h.get(k) for h in histories.values())
    ]
    cols = 2 if len(keys) > 1 else 1
    rows = max(1, -(-len(keys) // cols))
    fig, axes = new_figure(rows, cols, panel_size=(5.2, 3.6), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        for label, history in histories.items():
            values = history.get(key) or []
            if len(values):
                ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=label)
        split = "validation" if key.startswith("val_") else "train"
        ax.set_title(f"{key.removeprefix('val_')} ({split})")
        _epoch_axis(ax, max((len(h.get(key) or []) for h in histories.values()), default=0))
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 0.84, 1))
    return fig
