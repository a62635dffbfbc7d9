"""Several run folders side by side: the document-vs-this-run table, tracked pixels, losses.

The runner calls `overlay_sweep` when a sweep ends, so a learning-rate sweep of a shapes
experiment gets its table and overlaid charts in the sweep folder. Any run folders can be put
side by side the same way (the complicated and morph runs against the simple one):

    python -m convwatch.report.overlays OUT_DIR RUN_DIR [RUN_DIR ...]

Files (with `sweep_` in front inside a sweep folder): `references.csv` (one row per run and
document figure: document, this run), `pixels.csv` (one row per run and tracked pixel: its
PixelTracker figures), `pixels_<series>.png` (each tracked pixel of every run overlaid, one
panel per channel) and `losses.png` (each run's training loss per epoch, log scale).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from convwatch.base import atomic, layout
from convwatch.base.layout import file_stem
from convwatch.report.reader import load_run, read_sweep

logger = logging.getLogger(__name__)

TRACKER_DIR = Path(layout.ARTIFACTS_DIR) / "PixelTracker"
Trace = tuple[list[int], list[list[float]]]  # steps, and per step one value per channel


def _read(path: Path, reader: Any) -> Any:
    try:
        return reader(path)
    except (OSError, ValueError):
        return None


def _pixels(folder: Path, label: str, found: dict[str, Any]) -> None:
    """The run's PixelTracker figures and traces into `found` ("rows", "traces", "targets")."""
    summary = _read(folder / TRACKER_DIR / "pixel_tracker.json", atomic.read_json) or {}
    for series, figures in summary.items():
        found["rows"].append({"run": label, "series": series, **figures})
        table = _read(folder / TRACKER_DIR / f"{file_stem(series)}.csv", atomic.read_csv)
        if not table:
            continue
        channels = [k for k in table[0] if k != "step"]
        steps = [int(row["step"]) for row in table]
        values = [[float(row[c]) for c in channels] for row in table]
        found["traces"].setdefault(series, {})[label] = (steps, values)
        target, targets = figures.get("target"), found["targets"]
        if series in targets and targets[series][0] != target:  # runs that want different
            target = None  # values (a colour morph beside a reconstruction): no target line
        targets[series] = (target, figures.get("tolerance"), channels)


def overlay_runs(
    runs: Mapping[str, str | Path], out_dir: str | Path, prefix: str = "", title: str = ""
) -> list[str]:
    """Write the side-by-side files for `runs` (`{label: run folder}`) into `out_dir`.

    Returns one console line per document figure: "label: figure: document X, this run Y".
    """
    from convwatch.plots.traces import loss_overlay_figure, trace_overlay_figure

    out_dir = Path(out_dir)
    lines: list[str] = []
    reference_rows: list[dict[str, Any]] = []
    losses: dict[str, list[float]] = {}
    pixels: dict[str, Any] = {"rows": [], "traces": {}, "targets": {}}
    for label, folder in runs.items():
        run = load_run(folder, artifacts=False)
        for ref in run.references:
            reference_rows.append({"run": label, **ref})
            lines.append(
                f"{label}: {ref.get('label')}: document {ref.get('reference_text')}, "
                f"this run {ref.get('this_run_text')}"
            )
        if any("loss" in row for row in run.history):
            losses[label] = [row["loss"] for row in run.history if "loss" in row]
        _pixels(Path(folder), label, pixels)
    if reference_rows:
        fields = ["run", "label", "metric", "reference", "this_run", "source"]
        atomic.write_csv(out_dir / f"{prefix}references.csv", reference_rows, fields)
    if pixels["rows"]:
        fields = list(dict.fromkeys(k for row in pixels["rows"] for k in row))
        atomic.write_csv(out_dir / f"{prefix}pixels.csv", pixels["rows"], fields)
    for series, by_run in pixels["traces"].items():
        target, tolerance, channels = pixels["targets"][series]
        figure = trace_overlay_figure(
            by_run, channels, target, tolerance, title=f"{title or 'runs'}: output pixel {series}"
        )
        atomic.write_figure(out_dir / f"{prefix}pixels_{file_stem(series)}.png", figure)
    if losses:
        figure = loss_overlay_figure(losses, title=f"{title or 'runs'}: training loss")
        atomic.write_figure(out_dir / f"{prefix}losses.png", figure)
    return lines


def overlay_sweep(sweep_dir: str | Path) -> list[str]:
    """`overlay_runs` for the completed runs of a sweep folder, labelled by their sweep values."""
    sweep_dir = Path(sweep_dir)
    sweep, problem = read_sweep(sweep_dir)
    if problem:
        raise ValueError(f"{sweep_dir}: {problem}")
    points = sweep.get("runs")
    runs = {
        str(point.get("label") or point["run"]): sweep_dir / str(point["run"])
        for point in (points if isinstance(points, list) else [])
        if isinstance(point, dict) and point.get("run") and point.get("status") == "completed"
    }
    overrides = sweep.get("overrides")
    title = " ".join(map(str, overrides)) if isinstance(overrides, list) else ""
    return overlay_runs(runs, sweep_dir, prefix="sweep_", title=title or sweep_dir.name)


def _labelled(folders: Sequence[Path]) -> dict[str, Path]:
    """Run folders labelled by experiment name, and by folder too where a name repeats."""
    names = [load_run(f, artifacts=False).config.get("name") for f in folders]
    runs = {}
    for folder, name in zip(folders, names, strict=True):
        label = str(name or folder.name)
        runs[label if names.count(name) == 1 else f"{label} ({folder.name})"] = folder
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m convwatch.report.overlays OUT_DIR RUN_DIR [RUN_DIR ...]`."""
    parser = argparse.ArgumentParser(
        prog="python -m convwatch.report.overlays",
        description="Put run folders side by side: tables and overlaid charts in OUT_DIR.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", type=Path)
    parser.add_argument("runs", metavar="RUN_DIR", type=Path, nargs="+")
    args = parser.parse_args(argv)
    for line in overlay_runs(_labelled(args.runs), args.out_dir):
        logger.info(line)
    logger.info("wrote %s", args.out_dir)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())
