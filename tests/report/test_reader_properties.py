"""Run-folder readers on untrusted files: any run.json, config.json, metrics.json or history.csv.

A results tree holds folders from other machines, older versions and killed runs. Whatever they
hold (random JSON of any shape, random bytes), `compare` tabulates, the pages are written, and
`resume` answers with a ConvwatchError: never another exception, and every page is well formed.
"""

from __future__ import annotations

import json
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convwatch import ConvwatchError, compare_table, format_table, load_run
from convwatch.report.pages import (
    write_compare_report,
    write_results_index,
    write_run_report,
    write_sweep_report,
)
from convwatch.run.runner import resume_run

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def shaped(fields: list[str]) -> st.SearchStrategy:
    """A JSON object with some of the fields a convwatch file has, each of any value."""
    return st.fixed_dictionaries({}, optional={f: json_values for f in fields})


RECORD = ["name", "status", "error", "started", "ended", "duration_s", "command", "seed", "notes"]
RECORD += ["config_hash", "checkpoint_epoch", "epochs_completed", "resumed", "model_from"]
RECORD += ["pid", "host", "heartbeat", "data_source", "overrides", "traceback", "captures"]
CONFIG = ["name", "description", "fit", "data", "model", "compile", "callbacks", "references"]
METRICS = ["metrics", "references", "data_source", "ClassificationReport"]


def contents(fields: list[str]) -> st.SearchStrategy:
    """What one JSON file may hold: nothing, random bytes, any JSON, or an object of its shape."""
    return st.one_of(
        st.none(),
        st.binary(max_size=20),
        json_values.map(json.dumps),
        shaped(fields).map(json.dumps),
    )


history = st.one_of(
    st.none(),
    st.binary(max_size=30),
    st.lists(
        st.dictionaries(
            st.sampled_from(["epoch", "loss", "val_loss", "accuracy", "step", "", "x,y"]),
            st.one_of(st.text(max_size=5), st.floats().map(repr), st.integers().map(str)),
            max_size=4,
        ),
        max_size=4,
    ).map(lambda rows: _csv(rows)),
)


def _csv(rows: list[dict[str, str]]) -> str:
    import csv
    import io

    columns = list(dict.fromkeys(k for row in rows for k in row)) or ["epoch"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


class WellFormed(HTMLParser):
    """Counts open tags; the pages' void elements aside, every tag opened is closed."""

    VOID = {"meta", "link", "img", "br", "hr", "input", "source", "wbr", "area", "col"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        assert not tag.startswith("script") and not any(a.startswith("on") for a, _ in attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def well_formed(page: Path) -> None:
    parser = WellFormed()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    assert parser.stack == [], f"unclosed {parser.stack} in {page}"


def put(path: Path, value: str | bytes | None) -> None:
    if value is None:
        return
    if isinstance(value, str):
        value = value.encode()
    path.write_bytes(value)


@FUZZ
@given(
    record=contents(RECORD),
    config=contents(CONFIG),
    metrics=contents(METRICS),
    rows=history,
    sweep=st.one_of(st.none(), contents(["overrides", "planned", "runs"])),
)
def test_any_run_folder_is_compared_reported_and_refused_for_resume(
    record, config, metrics, rows, sweep
):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "results"
        parent = root / "exp" / ("20260101-000000-sweep-aaaaaaa" if sweep is not None else "")
        run = parent / "20260101-000000-bbbbbbb"
        run.mkdir(parents=True)
        put(run / "run.json", record)
        put(run / "config.json", config)
        put(run / "metrics.json", metrics)
        put(run / "history.csv", rows)
        put(run / "history.csv", rows if rows is not None else "epoch\n")  # always a run
        put(parent / "sweep.json", sweep)

        loaded = load_run(run)
        assert isinstance(loaded.status, str) and isinstance(loaded.problems, list)
        table = compare_table([loaded, load_run(run)], None, False, "all")
        for fmt in ("table", "md", "csv", "json"):
            assert isinstance(format_table(table, fmt), str)
        for page in (
            write_run_report(run),
            write_compare_report(table.runs, root / "compare.html"),
            write_results_index(root),
            *([write_sweep_report(parent)] if sweep is not None else []),
        ):
            well_formed(page)
        try:
            resume_run(run)
        except ConvwatchError:
            pass
        else:
            raise AssertionError("a folder without a checkpoint was resumed")
