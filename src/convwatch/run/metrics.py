"""A run's final metrics, the table of "the document says X, this run got Y", and the runner's
write-metrics step (metrics.json, and the captures' notes in run.json)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from convwatch.base import layout
from convwatch.run.folder import RunFolder
from convwatch.run.spec import Experiment

if TYPE_CHECKING:  # convwatch.callbacks imports Keras: seconds, for a name in a signature
    from convwatch.callbacks import Capture

logger = logging.getLogger(__name__)


def final_metrics(evaluation: dict[str, float], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Test metrics (`test_*`, plus `test_error` = 1 - accuracy) and the last epoch's logs."""
    metrics: dict[str, Any] = {f"test_{k}": float(v) for k, v in evaluation.items()}
    if "test_accuracy" in metrics:
        metrics["test_error"] = 1.0 - metrics["test_accuracy"]
    if rows:
        last = rows[-1]
        metrics.update({f"final_{k}": v for k, v in last.items() if k != "epoch"})
        metrics["epochs"] = last["epoch"]
    return metrics


def compare_references(experiment: Experiment, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """For each reference figure: what the document says and what this run got."""
    lines = []
    config = experiment.config()
    for ref in experiment.references:
        if not ref.applies_to(config):  # a figure for another setting (`Reference.when`)
            continue
        got = metrics.get(ref.metric)
        lines.append(
            {
                "metric": ref.metric,
                "label": ref.label,
                "source": ref.source,
                "reference": ref.value,
                "this_run": got,
                "reference_text": ref.format(ref.value),
                "this_run_text": ref.format(got),
            }
        )
    return lines


def run_metrics(
    evaluation: Mapping[str, float],
    initial: Mapping[str, float],
    rows: Sequence[dict[str, Any]],
    params: int,
    captures: Sequence[Capture],
) -> dict[str, Any]:
    """Everything metrics.json's `metrics` holds: the test metrics after training and before
    it (`initial_test_*`), the last epoch's logs, the parameter count, and the figures the
    captures measured (`Capture.final_metrics`: PixelTracker's pixels, for the references)."""
    metrics = final_metrics(dict(evaluation), rows)
    metrics.update({f"initial_test_{k}": float(v) for k, v in initial.items()})
    metrics["params"] = params
    for capture in captures:
        metrics.update(capture.final_metrics())
    return metrics


def write_metrics(
    experiment: Experiment,
    folder: RunFolder,
    record: dict[str, Any],
    metrics: dict[str, Any],
    captures: Sequence[Capture],
    data_source: str,
) -> None:
    """metrics.json: `metrics`, the references compared with them, and each capture's
    `run_summary()` under its class name; the captures' `run_notes()` (what a DeepDream stood
    on: a fallback network is named as such) go into `record` and the log."""
    comparison = compare_references(experiment, metrics)
    for line in comparison:
        logger.info(
            f"reference {line['label']} {line['reference_text']} ({line['source']}), "
            f"this run {line['this_run_text']}"
        )
    notes = [note for capture in captures for note in capture.run_notes()]
    if notes:
        record["notes"] = notes
        for note in notes:
            logger.info(note)
    reports = {}
    for capture in captures:
        summary = capture.run_summary()
        if summary is not None:
            reports[type(capture).__name__] = summary
    folder.write_json(
        layout.METRICS_JSON,
        {"metrics": metrics, "references": comparison, "data_source": data_source, **reports},
    )
