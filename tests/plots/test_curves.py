"""Training curves: one run's history, and every run of a sweep on shared axes."""

from __future__ import annotations

from PIL import Image

from convwatch.base.atomic import write_figure
from convwatch.plots import plot_history, sweep_curves_figure


def saved(fig, tmp_path, name="figure.png"):
    with Image.open(write_figure(tmp_path / name, fig)) as png:
        return png.format, png.size


def test_history_draws_validation_on_the_training_panel(tmp_path):
    fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.2, 0.7], "accuracy": [0.4, 0.8]})
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in fig.axes[0].lines] == ["train", "validation"]
    assert list(fig.axes[0].lines[0].get_xdata()) == [1, 2]  # epochs count from 1
    assert saved(fig, tmp_path)[0] == "PNG"


def test_sweep_curves_overlay_every_run(tmp_path):
    histories = {
        "sgd": {"loss": [1.0, 0.8], "accuracy": [0.5, 0.6], "val_loss": [1.1, 0.9]},
        "adam": {"loss": [0.7, 0.4], "accuracy": [0.7, 0.9], "val_loss": [0.8, 0.5]},
    }
    fig = sweep_curves_figure(histories, title="two runs")
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert titles == ["loss (train)", "loss (validation)", "accuracy (train)"]
    assert [line.get_label() for line in fig.axes[0].lines] == ["sgd", "adam"]
    assert saved(fig, tmp_path)[0] == "PNG"


def test_the_epoch_axis_ticks_whole_epochs_only():
    """A one-epoch sweep is drawn at epoch 1, not on an axis from 0.96 to 1.04."""
    from convwatch.plots.curves import plot_history, sweep_curves_figure

    one = sweep_curves_figure({"a": {"loss": [2.3]}, "b": {"loss": [1.9]}})
    assert list(one.axes[0].get_xticks()) == [1]
    long = plot_history({"loss": [1.0 / (i + 1) for i in range(30)]})
    ticks = long.axes[0].get_xticks()
    assert len(ticks) > 1 and all(float(t).is_integer() for t in ticks)
