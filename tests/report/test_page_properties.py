"""The pages fed random strings: whatever a run folder's files say, no markup gets through.

Run folders travel between machines and people; a run name, an error message, a config value,
a metric name or an artifact's file name holding `<`, quotes or `&` must show as text on the run
page, the sweep page, the comparison page and the results index, never become HTML.
"""

from __future__ import annotations

import tempfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convwatch import load_run
from convwatch.base import atomic
from convwatch.report.pages import (
    write_compare_report,
    write_results_index,
    write_run_report,
    write_sweep_report,
)

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Every payload opens a tag no page has (`<zq...`): escaped, `<zq` can never appear in a page.
payloads = st.text(
    alphabet=st.one_of(st.sampled_from("<>&\"'=/ ;:abc{}%"), st.characters(codec="utf-8")),
    max_size=10,
).map(lambda s: "<zq" + s)


def safe(name: str) -> str:
    """`name` as one file name (no separator, no NUL)."""
    return name.replace("/", "_").replace("\x00", "_")[:60]


file_names = payloads.map(safe)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.events: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.events += [name for name, _ in attrs if name.startswith("on")]


def tags(page: Path) -> Tags:
    parser = Tags()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def fill(root: Path, make_run, text: list[str]) -> Path:
    """A run folder of a sweep whose every string field holds one of `text` (its captures'
    descriptions in run.json too)."""
    a, b, c, d, e, f, g, h = text
    sweep = root / safe(a)[:40] / "20260101-000000-sweep-aaaaaaa"
    atomic.write_json(sweep / "sweep.json", {"overrides": [b], "runs": [{"run": c}]})
    return make_run(
        sweep.parent,
        experiment=sweep.name,
        run_id="20260101-000000-bbbbbbb",
        status=b,
        error=c,
        traceback=d,
        notes=[e],
        command=f,
        data_source=g,
        started=h,
        config={"name": a, "description": b, "fit": {"epochs": 2, c: d}, "callbacks": {e: {}}},
        captures={"Group": {"group": c, "files": [[r".*\.png", f"{d} {{tag}}"]]}},
        metrics={f: 0.5, "test_accuracy": g},
        history=[{"epoch": 1, h: 0.5, f"val_{h}": 0.4}, {"epoch": 2, h: 0.3}],
        artifacts={
            f"Group/{safe(e)}_epoch001.png": np.zeros((4, 4), np.uint8),
        },
    )


def pages(root: Path, run: Path) -> list[Path]:
    """Every page that shows `run`: its own, its sweep's, a comparison, the results index."""
    return [
        write_run_report(run),
        write_sweep_report(run.parent),
        write_compare_report([load_run(run)], root / "compare.html"),
        write_results_index(root),
    ]


@FUZZ
@given(
    text=st.lists(payloads, min_size=8, max_size=8),
    names=st.lists(file_names, min_size=2, max_size=2),
)
def test_no_string_in_a_run_folder_becomes_markup(make_run, text, names):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "results"
        run = fill(root, make_run, text)
        group, name = names
        atomic.write_png(
            run / "artifacts" / (group or "g") / f"{name}.png", np.zeros((3, 3), np.uint8)
        )
        atomic.write_json(
            run / "metrics.json",
            {
                "metrics": {text[5]: 0.5},
                "references": [{"label": text[0], "source": text[1], "reference_text": text[2]}],
                text[3]: {text[4]: text[6]},
            },
        )
        plain = Path(tmp) / "plain"
        baseline = set().union(
            *(
                tags(p).tags
                for p in pages(plain, fill(plain, make_run, [f"x{i}" for i in range(8)]))
            )
        )
        for page in pages(root, run):
            source = page.read_text(encoding="utf-8")
            assert "<zq" not in source, f"a string appears unescaped in {page.name}"
            found = tags(page)
            assert not found.events, f"event attributes {found.events} in {page.name}"
            assert found.tags <= baseline, f"unexpected tags {found.tags - baseline} in {page.name}"
