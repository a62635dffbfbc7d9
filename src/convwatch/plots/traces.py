"""Values over training steps: a tracked pixel's channels, and several runs' traces overlaid.

Arrays in, matplotlib figures out. A trace is `steps (T,)` and `values (T, C)`. Channels named
r, g, b are drawn in red, green and blue. When a trace strays far beyond its target (an
exploding learning rate sends a 0-255 pixel to ~9,000) the y axis turns symmetric-log, so the
explosion and the final ±2 both stay readable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from convwatch.plots.figure import new_figure

CHANNEL_COLOURS = {"r": "tab:red", "g": "tab:green", "b": "tab:blue"}


def _scale_y(ax: Any, values: np.ndarray, target: Any = None) -> None:
    """Symmetric-log y when the values reach ten times past their typical size (the larger of
    their median and the target's largest channel), else linear."""
    finite = np.abs(values[np.isfinite(values)])
    if not finite.size:
        return
    typical = float(np.median(finite))
    if target is not None:  # a target of 0 (a black pixel) says nothing about the scale
        typical = max(typical, float(np.max(np.abs(target))))
    typical = max(typical, 1e-9)
    if finite.max() > 10 * typical:
        ax.set_yscale("symlog", linthresh=typical * 1.2)


def pixel_chart_figure(
    steps: Any,
    values: Any,
    channels: Sequence[str] = ("r", "g", "b"),
    target: Any = None,
    tolerance: float | None = None,
    title: str = "",
    marks: Mapping[str, int | None] | None = None,
):
    """One tracked pixel: each channel over the steps, its target dashed, marked steps dotted.

    Args:
        steps: `(T,)` step numbers.
        values: `(T, C)` channel values, one row per step.
        channels: C channel names (r, g, b get their own colours).
        target: `(C,)` values the channels should reach, drawn dashed with a `±tolerance` band.
        tolerance: half-width of the band around the target.
        title: the axes title.
        marks: `{label: step}` drawn as vertical dotted lines (None steps are skipped).
    """
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=np.float64).reshape(len(steps), -1)
    fig, ax = new_figure(1, 1, panel_size=(7.5, 4.2))
    for i, name in enumerate(channels):
        colour = CHANNEL_COLOURS.get(name, f"C{i}")
        last = values[-1, i] if len(values) else float("nan")
        ax.plot(steps, values[:, i], color=colour, lw=1.4, label=f"{name} (last {last:.1f})")
        if target is not None:
            goal = float(np.asarray(target).reshape(-1)[i])
            ax.axhline(goal, color=colour, ls="--", lw=0.8, alpha=0.7)
            if tolerance:
                ax.axhspan(goal - tolerance, goal + tolerance, color=colour, alpha=0.12)
    for i, (label, step) in enumerate((marks or {}).items()):
        if step is not None:
            ax.axvline(step, color="0.3", ls=":", lw=1)
            ax.annotate(
                f"{label}: step {step}",
                (step, 1 - 0.07 * (i + 1)),
                xycoords=("data", "axes fraction"),
                fontsize=8,
                ha="left",
                xytext=(3, 0),
                textcoords="offset points",
            )
    _scale_y(ax, values, target)
    ax.set_xlabel("training step")
    ax.set_ylabel("output value")
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def trace_overlay_figure(
    traces: Mapping[str, tuple[Any, Any]],
    channels: Sequence[str] = ("r", "g", "b"),
    target: Any = None,
    tolerance: float = 2.0,
    title: str = "",
):
    """Several runs' traces of the same pixel: one column per channel, one line per run.

    The top row shows the whole range (symmetric-log past ten times the target's size); when a
    run comes within `±10 * tolerance` of the `target`, a second row zooms there with the
    `±tolerance` band shaded, where "steps until within ±2" can be read off.

    Args:
        traces: `{run label: (steps (T,), values (T, C))}`.
        channels: C channel names, the column titles.
        target: `(C,)` drawn as a dashed black line.
        tolerance: half-width of the shaded band on the zoomed row. Defaults to 2.0.
        title: the figure title.
    """
    goals = None if target is None else np.asarray(target, dtype=np.float64).reshape(-1)
    columns = {
        label: np.asarray(values, dtype=np.float64).reshape(len(steps), -1)
        for label, (steps, values) in traces.items()
    }
    near = goals is not None and any(  # does any run come close enough to zoom on?
        np.all(np.abs(c - goals) <= 10 * tolerance, axis=1).any() for c in columns.values()
    )
    rows = 2 if near else 1
    fig, axes = new_figure(rows, len(channels), panel_size=(5.0, 3.4), squeeze=False)
    for i, name in enumerate(channels):
        for row in range(rows):
            ax = axes[row][i]
            for label, (steps, _) in traces.items():
                ax.plot(np.asarray(steps), columns[label][:, i], lw=1.2, label=str(label))
            if goals is not None:
                ax.axhline(goals[i], color="black", ls="--", lw=0.8)
            ax.grid(alpha=0.3)
            ax.set_xlabel("training step")
        top = axes[0][i]
        every = np.concatenate([c[:, i] for c in columns.values()]) if columns else np.zeros(0)
        _scale_y(top, every, goals)
        top.set_title(f"channel {name}")
        if near:
            zoom = axes[1][i]
            zoom.axhspan(goals[i] - tolerance, goals[i] + tolerance, color="0.5", alpha=0.2)
            zoom.set_ylim(goals[i] - 10 * tolerance, goals[i] + 10 * tolerance)
            zoom.set_title(f"channel {name} near {goals[i]:g} (band ±{tolerance:g})", fontsize=9)
    axes[0][0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def loss_overlay_figure(losses: Mapping[str, Any], title: str = "", ylabel: str = "loss"):
    """Loss curves of several runs on one log-scale axes: `{run label: values per step}`."""
    fig, ax = new_figure(1, 1, panel_size=(7.5, 4.2))
    for label, values in losses.items():
        values = np.asarray(values, dtype=np.float64)
        ax.plot(np.arange(1, len(values) + 1), values, lw=1.3, label=str(label))
    if any(np.nanmin(np.asarray(v, float)) > 0 for v in losses.values() if len(v)):
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
