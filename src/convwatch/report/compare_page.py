"""The comparison page as a plain dict for templates/compare.html: the runs, what differs in
their configs, their metrics (the best in bold), overlaid curves and their images side by side.

Run i has one colour (`convwatch.report.html.color(i)`) and one label ("#2 lr=0.01") in every
table and chart of the page. The page is `convwatch.report.pages.write_compare_report`; a
sweep's page (templates/sweep.html) is this page with the sweep's points above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from convwatch.report import captions
from convwatch.report import learned as learned_section
from convwatch.report.charts import overlaid_charts
from convwatch.report.compare import compare_table, lower_is_better, show
from convwatch.report.html import DASH, color, figure, link
from convwatch.report.reader import Artifact, Run
from convwatch.report.run_page import badge

INDEX = "index.html"
TOC = ("runs", "config", "metrics", "curves", "artifacts")


def labels(runs: Sequence[Run], keys: Sequence[str]) -> list[str]:
    """Each run's label: its number and its values of the first three differing keys."""
    found = []
    for i, run in enumerate(runs, 1):
        settings = run.settings()
        diff = ", ".join(f"{k.split('.')[-1]}={show(settings.get(k))}" for k in keys[:3])
        found.append(f"#{i} {diff}" if diff else f"#{i} {run.run_id}")
    return found


def run_link(run: Run, base: Path) -> dict[str, str]:
    """A link to the run's page, or to its folder where it has none yet."""
    report = run.path / INDEX
    return link(report if report.is_file() else run.path, base, run.run_id)


def duration(run: Run) -> str:
    return f"{run.duration_s:.1f} s" if run.duration_s is not None else DASH


def _ranked(name: str) -> bool:
    """Whether a metric has a best value (accuracy, loss, ...), unlike `epochs` or `params`."""
    words = ("acc", "auc", "precision", "recall", "f1", "iou", "score")
    return not name.startswith("initial_") and (
        lower_is_better(name) or any(w in name for w in words)
    )


def _metric_rows(runs: Sequence[Run], names: Sequence[str]) -> list[dict[str, Any]]:
    """Per metric, every run's value; the best is marked where the metric has a best and the
    runs differ in it."""
    found = []
    for name in names:
        values = [r.metrics.get(name) for r in runs]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        best = None
        if len(set(numbers)) > 1 and _ranked(name):
            best = min(numbers) if lower_is_better(name) else max(numbers)
        cells = [{"text": show(v), "best": best is not None and v == best} for v in values]
        found.append({"name": name, "cells": cells})
    return found


def _side_by_side(runs: Sequence[Run], base: Path, names: Sequence[str]) -> list[dict[str, Any]]:
    """Images of the same name next to each other, grouped by capture folder (the curves
    first); of a series of snapshots (`conv1_epoch003`), each run's last one."""
    picked: dict[tuple[str, str], dict[int, Artifact]] = {}
    for i, run in enumerate(runs):
        for artifact in run.artifacts:
            if not artifact.is_image or artifact.name.startswith("projector/"):
                continue
            key = (artifact.group, artifact.series if artifact.tag else artifact.name)
            current = picked.setdefault(key, {}).get(i)
            if current is None or (artifact.tag or "") > (current.tag or ""):
                picked[key][i] = artifact
    known = [captions.descriptions(run) for run in runs]
    groups = dict.fromkeys(g for g, _ in sorted(picked, key=lambda k: (k[0] != "curves", k)))
    return [
        {
            "name": group or "artifacts",
            "entries": [
                {
                    "title": key[1],
                    "cells": [
                        _cell(i, names[i], picked[key].get(i), base, known[i])
                        for i in range(len(runs))
                    ],
                }
                for key in picked
                if key[0] == group
            ],
        }
        for group in groups
    ]


def _cell(
    i: int,
    label: str,
    artifact: Artifact | None,
    base: Path,
    known: dict[str, captions.Description],
) -> dict[str, Any]:
    shown = (
        figure(artifact.path, base, captions.caption(artifact, known), 360) if artifact else None
    )
    return {"color": color(i), "label": label, "figure": shown}


def _runs_table(runs: Sequence[Run], base: Path, keys: Sequence[str], metrics: Sequence[str]):
    return [
        {
            "color": color(i),
            "number": i + 1,
            "link": run_link(run, base),
            "experiment": run.experiment,
            "status": badge(run),
            "cells": [show(run.settings().get(k)) for k in keys]
            + [show(run.metrics.get(m)) for m in metrics],
            "duration": duration(run),
        }
        for i, run in enumerate(runs)
    ]


def context(
    runs: Sequence[Run],
    base: Path,
    title: str = "",
    intro: str = "",
    learned: learned_section.Learned | str | None = None,
) -> dict[str, Any]:
    """Everything templates/compare.html shows of `runs`, for a page saved in folder `base`;
    `learned` is the "What the networks learned" section (figures, or why there are none;
    None: no section). The runs are shown in the order given."""
    compared = compare_table(runs)
    runs, keys = compared.runs, compared.keys
    names = labels(runs, keys)
    every_key = list(dict.fromkeys(k for r in runs for k in r.settings()))
    same = [k for k in every_key if k not in keys]
    heading = title or f"Comparing {len(runs)} runs"
    return {
        "title": title or f"convwatch: comparing {len(runs)} runs",
        "heading": heading,
        "crumbs": [],
        "intro": intro,
        "toc": TOC[:-1] + (("learned",) if learned is not None else ()) + TOC[-1:],
        "keys": keys,
        "metrics": compared.metrics,
        "numeric": [False] * (4 + len(keys)) + [True] * (len(compared.metrics) + 1),
        "runs": _runs_table(runs, base, keys, compared.metrics),
        "labels": [(color(i), label) for i, label in enumerate(names)],
        "problems": [
            {"color": color(i), "label": names[i], "run_id": run.run_id, "problems": run.problems}
            for i, run in enumerate(runs)
            if run.problems
        ],
        "differences": [(k, [show(r.settings().get(k)) for r in runs]) for k in keys],
        "same": [(k, show(runs[0].settings().get(k))) for k in same],
        "metric_rows": _metric_rows(runs, list(dict.fromkeys(k for r in runs for k in r.metrics))),
        "curves": overlaid_charts(runs, names),
        "side_by_side": _side_by_side(runs, base, names),
        "learned": learned_section.context(learned, names, base, [r.run_id for r in runs]),
    }
