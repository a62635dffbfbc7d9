"""A run's final metrics, and the table of "the document says X, this run got Y"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convwatch.run.spec import Experiment


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
