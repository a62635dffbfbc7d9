"""Comparing run folders: the table keeps only differing config keys; CSV/JSON/Markdown parse;
partial and old folders are read with what they have."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from convwatch import Compile, Data, Experiment, Fit, Optimizer, run_experiment
from convwatch.base.atomic import read_json
from convwatch.cli import main
from convwatch.report.compare import compare_table, differing_keys, format_table, sort_runs
from convwatch.report.reader import find_runs, flatten, list_artifacts, load_run
from tests.tiny import tiny_classifier

TINY = Experiment(
    name="tiny",
    description="tiny classifier with two captures",
    build_model=tiny_classifier,
    data=Data(name="mnist", limit=200, test_limit=100),
    compile=Compile(optimizer=Optimizer("adam", 1e-2)),
    fit=Fit(epochs=2, batch_size=50, validation="test"),
    callbacks={"FilterEvolution": {}, "ActivationCapture": {"probe_size": 2, "layers": ["conv"]}},
    seed=3,
)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Two tiny real runs, in one sweep folder: they differ in model.filters only."""
    root = tmp_path_factory.mktemp("results")
    return run_experiment(TINY, ["model.filters=2,3"], results_dir=root)


def _metrics(run_dir):
    return read_json(run_dir / "metrics.json")["metrics"]


def test_the_table_shows_only_the_key_that_differs_and_each_runs_metrics(sweep):
    runs = [load_run(p) for p in find_runs([str(sweep)])]
    assert len(runs) == 2 and all(r.status == "completed" and not r.problems for r in runs)
    table = compare_table(runs)
    assert table.keys == ["model.filters"]  # epochs, seed, data... are the same in both
    assert "test_accuracy" in table.metrics and "epochs" in table.metrics
    text = format_table(table)
    header, rule, *lines = text.splitlines()
    assert header.split()[:4] == ["experiment", "run", "status", "model.filters"]
    for run, line in zip(table.runs, lines, strict=True):
        cells = line.split()
        assert cells[:4] == ["tiny", run.run_id, "completed", str(run.config["model"]["filters"])]
        assert f"{_metrics(run.path)['test_accuracy']:.4g}" in cells


def test_csv_and_json_parse_and_carry_every_metric(sweep, capsys):
    assert main(["compare", str(sweep), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted(r["model.filters"] for r in rows) == ["2", "3"]
    for row in rows:
        metrics = _metrics(sweep / row["run"])
        assert float(row["test_accuracy"]) == pytest.approx(metrics["test_accuracy"])
        assert float(row["final_val_loss"]) == pytest.approx(metrics["final_val_loss"])
        assert row["status"] == "completed" and float(row["duration_s"]) > 0

    assert main(["compare", str(sweep), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["differing_keys"] == ["model.filters"]
    for run in data["runs"]:
        assert run["metrics"] == _metrics(sweep / run["run"])
        assert set(run["config"]) == {"model.filters"}

    assert main(["compare", str(sweep), "--format", "md"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| experiment |") and lines[1].startswith("| --- |")
    assert len(lines) == 4


def test_sort_puts_the_best_first_and_reverse_flips_it(sweep, capsys):
    runs = [load_run(p) for p in find_runs([str(sweep)])]
    by_loss = [r.metrics["test_loss"] for r in sort_runs(runs, "test_loss")]
    assert by_loss == sorted(by_loss)  # losses: lowest first
    by_acc = [r.metrics["test_accuracy"] for r in sort_runs(runs, "test_accuracy")]
    assert by_acc == sorted(by_acc, reverse=True)  # accuracies: highest first
    flipped = [r.metrics["test_loss"] for r in sort_runs(runs, "test_loss", reverse=True)]
    assert flipped == by_loss[::-1]
    assert main(["compare", str(sweep), "--sort", "nope"]) == 2
    assert "valid keys: " in capsys.readouterr().err


def test_globs_skip_files_and_a_missing_folder_exits_2(sweep, tmp_path, capsys):
    assert main(["compare", str(sweep / "*")]) == 0  # sweep.json, index.html are skipped
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 4 and "not a folder" in err
    assert main(["compare", str(tmp_path / "nowhere")]) == 2
    assert "no such run folder" in capsys.readouterr().err


def test_the_runner_wrote_run_sweep_and_results_pages(sweep):
    root = sweep.parent.parent
    index = (root / "index.html").read_text()
    for run in json.loads((sweep / "sweep.json").read_text())["runs"]:
        page = (sweep / run["run"] / "index.html").read_text()
        assert "completed" in page and "conv_filters.gif" in page
        assert run["run"] in index
        assert "../../../index.html" in page and "../index.html" in page  # results, sweep
    sweep_page = (sweep / "index.html").read_text()
    assert "model.filters" in sweep_page
    # what the two networks learned alike, computed once at the sweep's end, on its page
    assert "What the networks learned" in sweep_page and "conv: matched filters" in sweep_page
    assert (sweep / "learned.json").is_file() and list(sweep.glob("learned_cka_2_*.png"))


def test_compare_out_writes_a_page_with_relative_links_that_exist(sweep, tmp_path, capsys):
    out = tmp_path / "pages"
    assert main(["compare", str(sweep), "--out", str(out)]) == 0
    page = (out / "compare.html").read_text()
    assert "model.filters" in page and "conv_filters.gif" in page
    import re

    links = set(re.findall(r"(?:src|href)='([^'#][^']*)'", page)) - {"data:,"}
    assert links
    for link in links:
        assert not link.startswith("/") and os.path.exists(out / link), link


# ------------------------------------------------------------ hand-built, partial folders
def test_flatten_and_differing_keys_count_a_missing_key_as_a_difference(tmp_path, make_run):
    assert flatten({"fit": {"epochs": 2, "x": {}}, "seed": 1}) == {
        "fit.epochs": 2,
        "fit.x": {},
        "seed": 1,
    }
    a = make_run(tmp_path, run_id="a", config={"name": "exp", "fit": {"epochs": 2}, "seed": 1})
    b = make_run(tmp_path, run_id="b", config={"name": "exp", "fit": {"epochs": 2, "extra": 1}})
    runs = [load_run(a), load_run(b)]
    assert differing_keys(runs) == ["seed", "fit.extra"]


def test_partial_old_and_broken_folders_are_read_never_raised(tmp_path, make_run):
    failed = make_run(
        tmp_path,
        run_id="failed",
        status="failed",
        error="RuntimeError: boom",
        history=[{"epoch": 1, "loss": 2.0, "accuracy": 0.5}],
        omit=("metrics.json", "model.keras"),
    )
    run = load_run(failed)
    assert run.status == "failed"
    assert run.metrics == {"final_loss": 2.0, "final_accuracy": 0.5, "epochs": 1}
    assert any(p.startswith("metrics.json is missing") for p in run.problems)
    assert any(p.startswith("model.keras is missing") for p in run.problems)

    old = make_run(tmp_path, run_id="old", omit=("run.json", "history.csv", "summary.txt"))
    run = load_run(old)
    assert run.status == "unknown" and run.experiment == "exp" and run.history == []
    assert any(p.startswith("run.json is missing") for p in run.problems)

    broken = make_run(tmp_path, run_id="broken", status="running")
    (broken / "config.json").write_text("{not json")
    run = load_run(broken)
    assert run.config == {} and any("config.json is not valid JSON" in p for p in run.problems)
    assert any("still says running" in p for p in run.problems)

    table = compare_table([load_run(p) for p in (failed, old, broken)], sort="test_accuracy")
    assert format_table(table, "csv").count("\n") == 4  # a header and three rows, no crash
    assert len(table.runs) == 3


def test_artifact_listing_never_leaves_the_run_folder(tmp_path, make_run):
    import numpy as np

    run = make_run(tmp_path, artifacts={"Cap/conv1_epoch002.png": np.zeros((4, 4), np.uint8)})
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"not yours")
    (run / "artifacts" / "Cap" / "link.png").symlink_to(outside)
    (run / "artifacts" / "Linked").symlink_to(tmp_path)
    (run / "artifacts" / "Cap" / ".conv1.png.abc.tmp").write_bytes(b"half")
    (artifact,) = list_artifacts(run)
    assert artifact.rel == "artifacts/Cap/conv1_epoch002.png"
    assert (artifact.group, artifact.series, artifact.tag) == ("Cap", "conv1", "epoch002")
