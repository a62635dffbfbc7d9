"""Line charts of history.csv for the pages: the numbers of an SVG chart (scaled points, ticks,
labels, legend), drawn by the `chart` macro of templates/macros.html.

`run_charts` draws one run's curves (training solid, validation dashed), `overlaid_charts`
every run of a comparison in its own colour.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from convwatch.report.html import color
from convwatch.report.reader import Run

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 460, 270, 56, 12, 26, 38


@dataclass
class Line:
    """One line of a chart: its legend label, colour, dashed or not, and (x, y) points."""

    label: str
    color: str
    points: list[tuple[float, float]]
    dashed: bool = False


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not high > low or not math.isfinite(high - low):
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _label(value: float) -> str:
    return f"{value:.4g}"


def _legend(lines: Sequence[Line]) -> list[dict[str, Any]]:
    return [{"label": x.label, "color": x.color, "dashed": x.dashed} for x in lines]


def _drawn(
    line: Line, sx: Callable[[float], float], sy: Callable[[float], float], x_label: str
) -> dict[str, Any]:
    """A line's finite points in chart coordinates (`sx`, `sy`), each with its hover title."""
    good = [p for p in line.points if all(map(math.isfinite, p))]
    return {
        "color": line.color,
        "dashed": line.dashed,
        "points": " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in good),
        "dots": [
            {
                "x": f"{sx(x):.1f}",
                "y": f"{sy(y):.1f}",
                "title": f"{line.label}, {x_label} {_label(x)}: {_label(y)}",
            }
            for x, y in good
        ],
    }


def line_chart(
    title: str, lines: Sequence[Line], x_label: str = "epoch", key: Sequence[Line] | None = None
) -> dict[str, Any]:
    """A chart with axes, ticks and a hover title on every point; the legend shows `key`
    (default: the lines). Without finite points, or with a range no float can span, the chart
    holds a `message` instead."""
    points = [p for line in lines for p in line.points if all(map(math.isfinite, p))]
    chart: dict[str, Any] = {"title": title, "message": None, "width": WIDTH, "height": HEIGHT}
    if not points:
        return {**chart, "message": "no values"}
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if x0 == x1:
        x0, x1 = x0 - max(1.0, abs(x0) * 1e-6), x1 + max(1.0, abs(x1) * 1e-6)
    pad = (y1 - y0) * 0.06 or abs(y0) * 0.1 or 1.0
    y0, y1 = y0 - pad, y1 + pad
    if not all(math.isfinite(d) and d > 0 for d in (x1 - x0, y1 - y0)):  # near the float limits
        return {
            **chart,
            "message": f"values too large to draw (from {_label(min(ys))} to {_label(max(ys))})",
        }

    def sx(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT)

    def sy(y: float) -> float:
        return TOP + (y1 - y) / (y1 - y0) * (HEIGHT - TOP - BOTTOM)

    x_ticks = [x for x in _nice_ticks(x0, x1, 6) if x == int(x)] or [x0, x1]
    drawn = [_drawn(line, sx, sy, x_label) for line in lines]
    return {
        **chart,
        "x_label": x_label,
        "frame": {"x": LEFT, "y": TOP, "right": WIDTH - RIGHT, "bottom": HEIGHT - BOTTOM},
        "y_ticks": [
            {"y": f"{sy(y):.1f}", "text_y": f"{sy(y) + 4:.1f}", "label": _label(y)}
            for y in _nice_ticks(y0, y1)
        ],
        "x_ticks": [{"x": f"{sx(x):.1f}", "label": _label(x)} for x in x_ticks],
        "lines": [line for line in drawn if line["dots"]],
        "legend": _legend(lines if key is None else key),
    }


def curve_names(history: Sequence[dict[str, float]]) -> list[str]:
    """The metrics of history.csv, loss first, each once (`val_loss` is drawn with `loss`)."""
    keys = list(dict.fromkeys(k for row in history for k in row))
    names = [k[4:] if k.startswith("val_") else k for k in keys if k not in ("epoch", "step")]
    names = list(dict.fromkeys(names))
    return sorted(names, key=lambda n: (n != "loss", names.index(n)))


def _points(history: Sequence[dict[str, float]], key: str) -> list[tuple[float, float]]:
    points = []
    for i, row in enumerate(history, 1):
        if key in row:
            points.append((row.get("epoch", row.get("step", i)), row[key]))
    return points


def _x_label(runs: Sequence[Run]) -> str:
    rows = [row for r in runs for row in r.history]
    return "epoch" if any("epoch" in row for row in rows) or not rows else "step"


def run_charts(run: Run) -> list[dict[str, Any]]:
    """One chart per metric of the run's history: training solid, validation dashed."""
    charts = []
    for name in curve_names(run.history):
        lines = [
            Line("train", color(0), _points(run.history, name)),
            Line("validation", color(1), _points(run.history, f"val_{name}"), dashed=True),
        ]
        charts.append(line_chart(name, [x for x in lines if x.points], _x_label([run])))
    return charts


def overlaid_charts(runs: Sequence[Run], labels: Sequence[str]) -> list[dict[str, Any]]:
    """One chart per metric: every run's training (solid) and validation (dashed) line in the
    run's colour; the legend names the runs."""
    names = list(dict.fromkeys(n for r in runs for n in curve_names(r.history)))
    key = [Line(label, color(i), []) for i, label in enumerate(labels)]
    charts = []
    for name in names:
        lines = []
        for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
            lines.append(Line(f"{label} train", color(i), _points(run.history, name)))
            lines.append(
                Line(f"{label} val", color(i), _points(run.history, f"val_{name}"), dashed=True)
            )
        charts.append(line_chart(name, [x for x in lines if x.points], _x_label(runs), key))
    return charts
