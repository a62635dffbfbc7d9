"""The run page's dead-filter chart: counted from the filter atlas's NPZs as the callback writes
them (`dead` per filter shown, `filters`, `filter_count`), absent without a probe set, and never
stopped by an NPZ that cannot be read."""

from __future__ import annotations

import re

import numpy as np

from convwatch.report.dead_filters import TITLE, Count, count_dead
from convwatch.report.pages import write_run_report
from convwatch.report.reader import load_run
from convwatch.report.run_page import context

CAPTURES = {"FilterMaximization": {"group": "The filter atlas.", "files": []}}


def _atlas(dead: list[bool], of: int | None = None, probe: bool = True) -> dict[str, np.ndarray]:
    """An atlas NPZ's arrays as FilterMaximization writes them, pictures left tiny."""
    arrays = {
        "images": np.full((len(dead), 2, 2, 1), 0.5, np.float32),
        "filters": np.arange(len(dead)),
        "receptive_field": np.array([0, 0, 2, 2]),
    }
    if probe:
        arrays["dead"] = np.array(dead, bool)
    if of is not None:
        arrays["filter_count"] = np.array(of)
    return arrays


# conv1 shows all 4 of its filters; conv2 its 4 most active of 8, thinned to 2 at epoch 2.
ATLASES = {
    "FilterMaximization/conv1_epoch001.npz": _atlas([False] * 4, of=4),
    "FilterMaximization/conv1_epoch002.npz": _atlas([True, False, False, False], of=4),
    "FilterMaximization/conv1_epoch003.npz": _atlas([True, True, False, False], of=4),
    "FilterMaximization/conv2_epoch001.npz": _atlas([False, False, False, True], of=8),
    "FilterMaximization/conv2_epoch002.npz": _atlas([True, True], of=8),
    "FilterMaximization/conv2_epoch003.npz": _atlas([False] * 4, of=8),
}


def _dead_chart(run) -> dict | None:
    groups = {g["name"]: g for g in context(load_run(run))["groups"]}
    return groups["FilterMaximization"]["chart"]


def _values(chart: dict) -> dict[str, list[str]]:
    """Each line's hover titles, "<legend>, epoch <n>: <percent>", by legend."""
    return {
        label: [dot["title"] for dot in line["dots"]]
        for label, line in zip([x["label"] for x in chart["legend"]], chart["lines"], strict=True)
    }


def test_the_chart_shows_each_layers_share_of_dead_filters_shown_epoch_by_epoch(tmp_path, make_run):
    run = make_run(tmp_path, artifacts=ATLASES, captures=CAPTURES)
    found = count_dead(load_run(run))
    assert found.x_label == "epoch" and not found.problems
    assert found.layers["conv1"] == [Count(1, 0, 4, 4), Count(2, 1, 4, 4), Count(3, 2, 4, 4)]
    # a thinned capture counts over what it showed: 2 dead of 2 is 100%
    assert [c.percent for c in found.layers["conv2"]] == [25.0, 100.0, 0.0]
    chart = _dead_chart(run)
    assert chart["title"] == TITLE and chart["x_label"] == "epoch"
    assert _values(chart) == {  # percent dead of those shown, by layer and epoch
        "conv1 (all 4)": [f"conv1 (all 4), epoch {e}: {p}" for e, p in ((1, 0), (2, 25), (3, 50))],
        "conv2 (2-4 of 8 shown)": [
            f"conv2 (2-4 of 8 shown), epoch {e}: {p}" for e, p in ((1, 25), (2, 100), (3, 0))
        ],
    }
    page = write_run_report(run).read_text()
    section = page.split("<h3 id='a-FilterMaximization'>")[1]
    assert section.count("<svg xmlns") == 1 and TITLE in section  # beside the atlases
    assert "at least the one drawn" in section  # what the share is of, said under the chart


def test_an_atlas_without_a_probe_set_gets_no_chart(tmp_path, make_run):
    atlases = {name: {k: v for k, v in a.items() if k != "dead"} for name, a in ATLASES.items()}
    run = make_run(tmp_path, artifacts=atlases, captures=CAPTURES)
    assert count_dead(load_run(run)).layers == {}
    assert _dead_chart(run) is None
    assert "Dead filters per layer" not in write_run_report(run).read_text()


def test_older_npzs_and_step_captures_are_labelled_with_what_they_say(tmp_path, make_run):
    atlases = {
        "FilterMaximization/conv1_step000100.npz": _atlas([True, False]),
        "FilterMaximization/conv1_step000200.npz": _atlas([True, True]),
    }
    chart = _dead_chart(make_run(tmp_path, artifacts=atlases, captures=CAPTURES))
    assert chart["x_label"] == "step"
    assert _values(chart) == {
        "conv1 (2 shown)": ["conv1 (2 shown), step 100: 50", "conv1 (2 shown), step 200: 100"]
    }


def test_a_corrupt_npz_is_named_and_left_out_and_the_page_still_written(tmp_path, make_run):
    run = make_run(tmp_path, artifacts=ATLASES, captures=CAPTURES)
    folder = run / "artifacts" / "FilterMaximization"
    whole = (folder / "conv1_epoch003.npz").read_bytes()
    (folder / "conv1_epoch003.npz").write_bytes(whole[: len(whole) // 2])  # truncated
    (folder / "conv2_epoch003.npz").write_bytes(b"not a zip at all")
    wrong = {**_atlas([False] * 4), "dead": np.zeros((2, 2), bool)}  # not one flag per filter
    np.savez(folder / "conv3_epoch001.npz", **wrong)
    found = count_dead(load_run(run))
    assert [c.at for c in found.layers["conv1"]] == [1, 2] and "conv3" not in found.layers
    assert len(found.problems) == 3
    page = write_run_report(run).read_text()
    assert "Dead filters per layer" in page  # drawn from the NPZs that could be read
    for name in ("conv1_epoch003.npz", "conv2_epoch003.npz", "conv3_epoch001.npz"):
        assert re.search(rf"<li>artifacts/FilterMaximization/{name}[^<]*dead-filter chart", page)


def test_an_npz_cut_short_anywhere_never_raises(tmp_path, make_run):
    name = "FilterMaximization/conv1_epoch001.npz"
    run = make_run(tmp_path, artifacts={name: ATLASES[name]}, captures=CAPTURES)
    folder = run / "artifacts" / "FilterMaximization"
    whole = (run / "artifacts" / name).read_bytes()
    ends = range(0, len(whole), 7)
    for end in ends:
        (folder / f"conv1_epoch{1000 + end:05d}.npz").write_bytes(whole[:end])
    found = count_dead(load_run(run))
    assert len(found.layers["conv1"]) + len(found.problems) == 1 + len(ends)  # each, one way
