"""Comparing run folders: which config keys differ, which metrics to show, the runs in order,
and the table as aligned text, Markdown, CSV or JSON (`convwatch compare`).

`compare_table` keeps only the config keys that differ between the runs, next to their final
metrics; `format_table` writes it out. The runs come from `convwatch.report.reader.load_run`;
the HTML comparison page is `convwatch.report.pages.write_compare_report`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from convwatch.errors import ConvwatchError
from convwatch.report.reader import Run, finite_number

_MISSING = object()


def differing_keys(runs: Sequence[Run]) -> list[str]:
    """Config keys whose value is not the same in every run (absent counts as a value)."""
    settings = [r.settings() for r in runs]
    keys = list(dict.fromkeys(k for s in settings for k in s))
    return [k for k in keys if len({_key(s.get(k, _MISSING)) for s in settings}) > 1]


def _key(value: Any) -> str:
    return "\0missing" if value is _MISSING else json.dumps(value, sort_keys=True, default=str)


def metric_names(runs: Sequence[Run], chosen: str | None = None) -> list[str]:
    """The metric columns: `chosen` ("a,b" or "all"); else the test metrics and epochs,
    or the final ones where no run has test metrics."""
    names = list(dict.fromkeys(k for r in runs for k in r.metrics))
    if chosen == "all":
        return names
    if chosen:
        return [n.strip() for n in chosen.split(",") if n.strip()]
    picked = [n for n in names if n.startswith("test_")] or [
        n for n in names if n.startswith("final_")
    ]
    return picked + (["epochs"] if "epochs" in names else [])


def lower_is_better(name: str) -> bool:
    """Whether a smaller value of the metric `name` is the better one (losses, errors, time)."""
    return any(word in name for word in ("loss", "error", "duration"))


def sort_runs(runs: Sequence[Run], key: str, reverse: bool = False) -> list[Run]:
    """Runs sorted by a metric (best first), a config key, or duration/started/status/run;
    runs without the value go last."""
    settings_keys = {k for r in runs for k in r.settings()}
    metrics_keys = {k for r in runs for k in r.metrics}
    getters = {
        "duration": lambda r: r.duration_s,
        "started": lambda r: r.started,
        "status": lambda r: r.status,
        "run": lambda r: r.run_id,
        "experiment": lambda r: r.experiment,
    }
    if key in getters:
        get, descending = getters[key], False
    elif key in metrics_keys:
        get, descending = (lambda r: finite_number(r.metrics.get(key))), not lower_is_better(key)
    elif key in settings_keys:
        get, descending = (lambda r: r.settings().get(key)), False
    else:
        valid = sorted(metrics_keys) + sorted(getters) + sorted(settings_keys)
        raise ConvwatchError(f"cannot sort by {key!r}; valid keys: {', '.join(valid)}")
    present = [r for r in runs if get(r) is not None]
    absent = [r for r in runs if get(r) is None]
    ordered = sorted(present, key=lambda r: _sortable(get(r)), reverse=descending != reverse)
    return ordered + absent


def _sortable(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) else (1, json.dumps(value, default=str))


@dataclass
class Table:
    """The comparison: which config keys differ, which metrics are shown, one row per run."""

    runs: list[Run]
    keys: list[str]
    metrics: list[str]


def compare_table(
    runs: Sequence[Run], sort: str | None = None, reverse: bool = False, metrics: str | None = None
) -> Table:
    """The runs (sorted by `sort`, see `sort_runs`), the config keys that differ between them
    and the metric columns (`metrics`: "a,b", "all" or None, see `metric_names`)."""
    ordered = sort_runs(runs, sort, reverse) if sort else list(runs)
    return Table(ordered, differing_keys(ordered), metric_names(ordered, metrics))


def show(value: Any) -> str:
    """A value as a table shows it: 4 significant digits for floats, JSON for lists."""
    if value is None or value is _MISSING:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def rows(table: Table) -> list[list[str]]:
    """The table as text cells: header first."""
    header = ["experiment", "run", "status", *table.keys, *table.metrics, "duration"]
    body = [
        [
            r.experiment,
            r.run_id,
            r.status,
            *(show(r.settings().get(k, _MISSING)) for k in table.keys),
            *(show(r.metrics.get(m)) for m in table.metrics),
            _duration(r.duration_s),
        ]
        for r in table.runs
    ]
    return [header, *body]


def format_table(table: Table, fmt: str = "table") -> str:
    """The comparison as `table` (aligned text), `md`, `csv` or `json`."""
    if fmt == "json":
        return json.dumps(_records(table), indent=2, default=str) + "\n"
    if fmt == "csv":
        return _csv(table)
    cells = rows(table)
    if fmt == "md":
        lines = ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        lines.insert(1, "|" + "|".join(" --- " for _ in cells[0]) + "|")
        notes = [f"- `{r.run_id}` {line}" for r, line in _dead_notes(table)]
        return "\n".join(lines + ([""] + notes if notes else [])) + "\n"
    if fmt != "table":
        raise ConvwatchError(f"format must be table, md, csv or json. Received: {fmt!r}")
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    numeric = [i >= 3 + len(table.keys) for i in range(len(widths))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.rjust(w) if numeric[i] and n else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    if not table.keys and len(table.runs) > 1:
        lines.append("(the runs' configs are the same)")
    lines += [f"{r.run_id}: {line}" for r, line in _dead_notes(table)]
    return "\n".join(lines) + "\n"


def _dead_notes(table: Table) -> list[tuple[Run, str]]:
    """One line per dead run: why it is called dead, and what can be done."""
    return [(r, f"dead: {r.status_reason}") for r in table.runs if r.status == "dead"]


def _records(table: Table) -> dict[str, Any]:
    return {
        "differing_keys": table.keys,
        "runs": [
            {
                "experiment": r.experiment,
                "run": r.run_id,
                "path": str(r.path),
                "status": r.status,
                "recorded_status": r.recorded_status,
                "status_reason": r.status_reason or None,
                "started": r.record.get("started"),
                "duration_s": r.duration_s,
                "config": {k: r.settings().get(k) for k in table.keys},
                "metrics": r.metrics,
                "problems": r.problems,
            }
            for r in table.runs
        ],
    }


def _csv(table: Table) -> str:
    every_metric = list(dict.fromkeys(k for r in table.runs for k in r.metrics))
    header = [
        "experiment", "run", "status", *table.keys, *every_metric, "duration_s", "path",
        "status_reason",
    ]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for r in table.runs:
        settings = r.settings()
        writer.writerow(
            [
                r.experiment,
                r.run_id,
                r.status,
                *(_csv_value(settings.get(k)) for k in table.keys),
                *(_csv_value(r.metrics.get(m)) for m in every_metric),
                _csv_value(r.duration_s),
                str(r.path),
                r.status_reason,
            ]
        )
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, list | dict | bool) else value
