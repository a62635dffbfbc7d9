"""Pixel traces as charts: channel colours, the target band, symmetric-log for explosions."""

from __future__ import annotations

import numpy as np

from convwatch.plots.traces import loss_overlay_figure, pixel_chart_figure, trace_overlay_figure

STEPS = np.arange(5)
CALM = np.array([[28, 25, -49], [200, 60, 40], [250, 8, 6], [254, 1, 1], [255, 0, 0]], float)
WILD = CALM.copy()
WILD[1] = (9175, 9200, 9199)


def test_pixel_chart_draws_each_channel_in_its_colour_with_marks():
    fig = pixel_chart_figure(STEPS, CALM, target=(255, 0, 0), tolerance=2, marks={"in": 3})
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 5]
    assert [line.get_color() for line in lines] == ["tab:red", "tab:green", "tab:blue"]
    assert ax.get_yscale() == "linear"
    assert any("in: step 3" in t.get_text() for t in ax.texts)
    assert pixel_chart_figure(STEPS, WILD, target=(255, 0, 0)).axes[0].get_yscale() == "symlog"


def test_overlay_has_a_zoomed_row_when_a_target_is_given():
    traces = {"1e-4": (STEPS, CALM), "1.0": (STEPS, WILD)}
    fig = trace_overlay_figure(traces, target=(255, 0, 0), tolerance=2)
    assert len(fig.axes) == 6  # 3 channels x (full range, zoom on the target)
    assert fig.axes[0].get_yscale() == "symlog" and fig.axes[3].get_ylim() == (235, 275)
    assert len(trace_overlay_figure(traces).axes) == 3  # no target: no zoom row
    far = trace_overlay_figure(traces, target=(0, 255, 0))  # no run comes near: nothing to zoom
    assert len(far.axes) == 3


def test_loss_overlay_is_logarithmic_for_positive_losses():
    fig = loss_overlay_figure({"a": [100.0, 10.0, 1.0], "b": [50.0, 5.0]})
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].get_lines()) == 2
