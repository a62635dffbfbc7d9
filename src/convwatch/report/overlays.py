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

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from convwatch.base import atomic, layout
from convwatch.base.layout import file_stem

TRACKER_DIR = Path(layout.ARTIFACTS_DIR) / "PixelTracker"


def _read(path: Path, reader: Any) -> Any:
    try:
        return reader(path)
    except (OSError, ValueError):
        return None


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
    pixel_rows: list[dict[str, Any]] = []
    losses: dict[str, list[float]] = {}
    traces: dict[str, dict[str, tuple[list[int], list[list[float]]]]] = {}
    targets: dict[str, Any] = {}
    for label, folder in runs.items():
        folder = Path(folder)
        metrics = _read(folder / layout.METRICS_JSON, atomic.read_json) or {}
        for ref in metrics.get("references", []):
            reference_rows.append({"run": label, **ref})
            lines.append(
                f"{label}: {ref['label']}: document {ref['reference_text']}, "
                f"this run {ref['this_run_text']}"
            )
        history = _read(folder / layout.HISTORY_CSV, atomic.read_csv) or []
        if history and "loss" in history[0]:
            losses[label] = [float(row["loss"]) for row in history if row.get("loss")]
        summary = _read(folder / TRACKER_DIR / "pixel_tracker.json", atomic.read_json) or {}
        for series, figures in summary.items():
            pixel_rows.append({"run": label, "series": series, **figures})
            table = _read(folder / TRACKER_DIR / f"{file_stem(series)}.csv", atomic.read_csv)
            if not table:
                continue
            channels = [k for k in table[0] if k != "step"]
            steps = [int(row["step"]) for row in table]
            values = [[float(row[c]) for c in channels] for row in table]
            traces.setdefault(series, {})[label] = (steps, values)
            target = figures.get("target")
            if series in targets and targets[series][0] != target:  # runs that want different
                target = None  # values (a colour morph beside a reconstruction): no target line
            targets[series] = (target, figures.get("tolerance"), channels)
    if reference_rows:
        fields = ["run", "label", "metric", "reference", "this_run", "source"]
        atomic.write_csv(out_dir / f"{prefix}references.csv", reference_rows, fields)
    if pixel_rows:
        fields = list(dict.fromkeys(k for row in pixel_rows for k in row))
        atomic.write_csv(out_dir / f"{prefix}pixels.csv", pixel_rows, fields)
    for series, by_run in traces.items():
        target, tolerance, channels = targets[series]
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
    sweep = atomic.read_json(sweep_dir / "sweep.json")
    runs = {
        str(run.get("label") or run["run"]): sweep_dir / run["run"]
        for run in sweep.get("runs", [])
        if run.get("status") == "completed"
    }
    title = " ".join(sweep.get("overrides", [])) or sweep_dir.name
    return overlay_runs(runs, sweep_dir, prefix="sweep_", title=title) if runs else []


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        print("usage: python -m convwatch.report.overlays OUT_DIR RUN_DIR [RUN_DIR ...]")
        return 2
    folders = [Path(a) for a in args[1:]]
    names = [(_read(f / layout.CONFIG_JSON, atomic.read_json) or {}).get("name") for f in folders]
    runs = {}  # labelled by experiment name, and by folder too where a name repeats
    for folder, name in zip(folders, names, strict=True):
        label = name or folder.name
        runs[label if names.count(name) == 1 else f"{label} ({folder.name})"] = folder
    for line in overlay_runs(runs, args[0]):
        print(line)
    print(args[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
