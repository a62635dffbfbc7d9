"""What a sweep folder says about its runs: labels, overlaid curves, a table and verdicts.

`summarize` runs after every point of a sweep has finished. It writes `sweep_curves.png`,
`sweep_table.csv` and `sweep_verdicts.txt`, then the document-vs-run table and the overlaid
pixel and loss charts of `convwatch.report.overlays`, then `learned.json`: what each point's network
learned against the first's (`convwatch.run.learned`), which the sweep's page shows. The runs
are already done by then, so a summary that fails is reported and never fails the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from convwatch.base import atomic
from convwatch.plots import sweep_curves_figure
from convwatch.report import learned as learned_section
from convwatch.report.overlays import overlay_sweep
from convwatch.report.reader import load_run
from convwatch.run.folder import RunFolder
from convwatch.run.learned import learned_comparison
from convwatch.run.spec import Experiment

logger = logging.getLogger(__name__)


def summarize(sweep: RunFolder, runs: Sequence[dict[str, Any]], title: str) -> None:
    """Write every sweep-level summary into `sweep`, logging verdicts and reference lines."""
    try:
        for line in summarize_sweep(sweep, runs, title=title):
            logger.info(line)
    except Exception as error:
        logger.warning(f"sweep summary not written: {type(error).__name__}: {error}")
    try:
        for line in overlay_sweep(sweep.path):
            logger.info(f"reference {line}")
    except Exception as error:
        logger.warning(f"sweep overlay not written: {type(error).__name__}: {error}")
    try:
        compare_learned(sweep, runs)
    except Exception as error:
        logger.warning(f"what the sweep's networks learned not compared: {error}")


def compare_learned(sweep: RunFolder, runs: Sequence[dict[str, Any]]) -> None:
    """`<sweep>/learned.json` and `learned_*.png` beside the runs (every folder in a sweep is a
    run): what each completed point learned against the first (CKA, matched filters), for the
    sweep's page; where it cannot be compared, why."""
    done = [load_run(sweep.path / r["run"]) for r in runs if r.get("status") == "completed"]
    if len(done) < 2:
        return
    logger.info(f"comparing what the {len(done)} networks learned (CKA, matched filters)")
    found = learned_comparison(done, sweep.path, prefix=learned_section.PREFIX)
    if isinstance(found, str):
        logger.warning(f"what the sweep's networks learned not compared: {found}")
    learned_section.save(found, sweep.path)


def sweep_label(variant: Experiment, keys: Sequence[str]) -> str:
    """What tells a sweep point apart: its values of the swept keys (`adam`, `filters=2, ...`)."""
    values = []
    for key in keys:
        value: Any = variant.config()
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        values.append(value)
    if len(keys) == 1:
        return str(values[0])
    return ", ".join(
        f"{key.rsplit('.', 1)[-1]}={value}" for key, value in zip(keys, values, strict=True)
    )


def summarize_sweep(
    sweep: RunFolder, runs: Sequence[dict[str, Any]], target: float = 0.95, title: str = ""
) -> list[str]:
    """The sweep's runs side by side, written into the sweep folder; returns one verdict per run.

    `sweep_curves.png`: every run's loss/accuracy curves overlaid; `sweep_table.csv`: final
    figures and the first epoch each run reached `target` accuracy (train and validation);
    `sweep_verdicts.txt`: the verdict lines.
    """
    histories, rows, verdicts = {}, [], []
    for run in runs:
        if run.get("status") != "completed":
            verdicts.append(f"{run['label']}: {run.get('status')}")
            continue
        read = load_run(sweep.path / run["run"], artifacts=False)
        columns = read.history[0] if read.history else {}
        history = {k: [row[k] for row in read.history if k in row] for k in columns}
        metrics = read.metrics
        histories[run["label"]] = history
        row = {"label": run["label"], "run": run["run"], "epochs": metrics.get("epochs")}
        for key in ("params", "initial_test_accuracy", "test_accuracy", "test_loss"):
            row[key] = metrics.get(key)
        for split, name in (("train", "accuracy"), ("val", "val_accuracy")):
            reached = [i + 1 for i, v in enumerate(history.get(name, [])) if v >= target]
            row[f"epochs_to_{target:.0%}_{split}"] = reached[0] if reached else None
        rows.append(row)
        verdicts.append(_verdict(row, history, target))
    if rows:
        atomic.write_csv(sweep.path / "sweep_table.csv", rows, list(rows[0]))
        atomic.write_figure(
            sweep.path / "sweep_curves.png",
            sweep_curves_figure(histories, title=title or f"{len(histories)} runs of the sweep"),
        )
    atomic.write_text(sweep.path / "sweep_verdicts.txt", "\n".join(verdicts) + "\n")
    return verdicts


def _verdict(row: dict[str, Any], history: dict[str, list[float]], target: float) -> str:
    if row["test_accuracy"] is None:
        return f"{row['label']}: test loss {row['test_loss']:.4g} after {row['epochs']} epochs"
    parts = [
        f"{row['label']}: test accuracy {row['test_accuracy']:.2%} after {row['epochs']} epochs"
    ]
    for split, name in (("val", "val_accuracy"), ("train", "accuracy")):
        values = history.get(name)
        if not values:
            continue
        epoch = row[f"epochs_to_{target:.0%}_{split}"]
        what = "validation" if split == "val" else "train"
        if epoch:
            parts.append(f"{target:.0%} {what} accuracy at epoch {epoch}")
        else:
            best = max(range(len(values)), key=values.__getitem__)
            best_text = f"best {values[best]:.2%}, epoch {best + 1}"
            parts.append(f"{target:.0%} {what} accuracy not reached ({best_text})")
    return "; ".join(parts)
