"""Classifier pictures say what they should (captions, colours, cell texts) and save as PNG."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convwatch.base.atomic import write_figure
from convwatch.plots import (
    class_scores_figure,
    confusion_matrix_figure,
    errors_by_class_figure,
    per_class_accuracy_figure,
    prediction_grid_figure,
)
from convwatch.plots.classification import RIGHT, WRONG, display_images

NAMES = ["cat", "dog", "fox"]
COUNTS = np.array([[2, 1, 1], [0, 3, 0], [1, 0, 2]])  # rows true, columns predicted


def saved(fig, tmp_path, name="figure.png"):
    with Image.open(write_figure(tmp_path / name, fig)) as png:
        return png.format, png.size


def test_confusion_matrix_figure_writes_counts_and_row_percentages(tmp_path):
    fig = confusion_matrix_figure(COUNTS, NAMES)
    counts_ax, share_ax = fig.axes[:2]
    assert [t.get_text() for t in counts_ax.texts][:3] == ["2", "1", "1"]  # first row, as given
    assert [t.get_text() for t in share_ax.texts][:3] == ["50.0", "25.0", "25.0"]
    assert [t.get_text() for t in counts_ax.get_yticklabels()] == NAMES
    assert saved(fig, tmp_path)[0] == "PNG"


def test_a_class_without_examples_gets_a_row_of_zero_percent():
    fig = confusion_matrix_figure(np.array([[3, 1], [0, 0]]))
    share_ax = fig.axes[1]
    assert [t.get_text() for t in share_ax.texts] == ["75.0", "25.0", "0.0", "0.0"]  # not NaN


def test_per_class_accuracy_and_errors_by_class(tmp_path):
    fig = per_class_accuracy_figure([0.5, 1.0, np.nan], NAMES, overall=0.7)
    assert [t.get_text() for t in fig.axes[0].texts] == ["50.0%", "100.0%", "n/a", "overall 70.0%"]
    assert saved(fig, tmp_path, "acc.png")[0] == "PNG"
    fig = errors_by_class_figure(COUNTS, NAMES)
    assert [t.get_text() for t in fig.axes[0].texts] == ["2", "0", "1"]  # errors per true class
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["cat", "dog", "fox"]  # every class some true class was taken for
    assert saved(fig, tmp_path, "errors.png")[0] == "PNG"


def test_prediction_grid_captions_are_green_when_right_and_red_when_wrong(tmp_path):
    images = np.random.default_rng(0).random((3, 8, 8, 1))
    fig = prediction_grid_figure(images, [0, 1, 2], [0, 2, 2], class_names=NAMES, cols=2)
    assert fig.axes[0].get_title() == "pred: cat\ntrue: cat"
    colours = [ax.title.get_color() for ax in fig.axes[:3]]
    assert colours == [RIGHT, WRONG, RIGHT]
    assert not fig.axes[3].axison  # the empty fourth panel is hidden
    top = np.array([[1, 0, 2]]), np.array([[0.6, 0.3, 0.1]])
    fig = prediction_grid_figure(images[:1], [0], *top, class_names=NAMES)
    assert fig.axes[0].get_title() == "true: cat\ndog 60%\ncat 30%\nfox 10%"
    assert saved(fig, tmp_path)[0] == "PNG"


def test_class_scores_figure_marks_the_true_and_predicted_bars(tmp_path):
    images = np.zeros((2, 8, 8))
    probs = np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]])
    fig = class_scores_figure(images, probs, [2, 0], NAMES)
    bars = fig.axes[1].patches  # first image's score bars
    assert [b.get_height() for b in bars] == pytest.approx([0.1, 0.7, 0.2])
    assert bars[1].get_facecolor()[:3] != bars[2].get_facecolor()[:3]  # predicted vs true
    assert "predicted dog (70%)" in fig.axes[1].get_title()
    assert saved(fig, tmp_path)[0] == "PNG"


def test_display_images_undo_any_global_scaling():
    unit = np.random.default_rng(0).random((4, 6, 6, 1)).astype(np.float32)
    unit[0, 0, 0, 0], unit[0, 0, 1, 0] = 0.0, 1.0
    standard = (unit - unit.mean()) / unit.std()
    np.testing.assert_allclose(display_images(standard), unit[..., 0], atol=1e-5)
    with pytest.raises(ValueError, match="images"):
        display_images(np.zeros((4, 6)))
