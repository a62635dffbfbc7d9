"""Report pages: what a run page shows, captions from the captures' descriptions, escaping,
partial folders, the results index, and the runner's guard that a report error never changes a
run's outcome."""

from __future__ import annotations

import re
import sys
from urllib.parse import unquote

import numpy as np
import pytest

from convwatch.cli import main
from convwatch.report import pages as report
from convwatch.report.captions import caption
from convwatch.report.pages import (
    render_run,
    write_compare_report,
    write_reports,
    write_results_index,
    write_run_report,
)
from convwatch.report.reader import load_run
from convwatch.run import publish

MURAL = np.tile(np.arange(0, 240, 8, dtype=np.uint8), (30, 1))  # 30 x 30 gray ramp
ARTIFACTS = {
    "FilterEvolution/conv1_filters.gif": [MURAL, MURAL[::-1]],
    "FilterEvolution/conv1_kernels.npz": {"kernels": np.zeros((2, 3, 3, 1, 4))},
    "ActivationCapture/conv1_epoch000.png": MURAL,
    "ActivationCapture/conv1_epoch001.png": MURAL,
    "curves/curves.png": np.zeros((20, 60, 3), np.uint8),
}


def _links(page: str) -> set[str]:
    return set(re.findall(r"(?:src|href)='([^'#][^']*)'", page)) - {"data:,"}


def test_run_page_shows_status_metrics_curves_and_every_artifact(tmp_path, make_run):
    run = make_run(
        tmp_path,
        history=[
            {"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.2, "val_accuracy": 0.4},
            {"epoch": 2, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.7, "val_accuracy": 0.7},
        ],
        metrics={"test_accuracy": 0.7, "test_error": 0.3},
        artifacts=ARTIFACTS,
        data_source="offline MNIST subset",
        data_full=False,
    )
    (run / "metrics.json").write_text(
        '{"metrics": {"test_error": 0.3}, "references": [{"label": "test error", '
        '"source": "document 004", "reference_text": "0.78%", "this_run_text": "30.00%"}]}'
    )
    page = (write_run_report(run)).read_text()
    assert "status-completed" in page and "not the full dataset" in page
    assert "0.78%" in page and "30.00%" in page and "document 004" in page
    assert page.count("<svg xmlns") == 2  # a chart for loss and one for accuracy
    for name in ARTIFACTS:
        assert f"artifacts/{name}" in page
    assert "conv1: every kernel at each snapshot, animated" in page
    assert "conv1: one probe image&#39;s feature maps, untrained (epoch 0)." in page
    assert "width='120' height='120'" in page  # a 30-pixel mural is shown 4x (the cap)
    for link in _links(page):
        assert (run / link).exists(), link


def test_captions_name_the_layer_and_the_moment(tmp_path, make_run):
    run = load_run(make_run(tmp_path, artifacts=ARTIFACTS))
    captions = {a.name: caption(a) for a in run.artifacts}
    assert captions["conv1_epoch001.png"] == "conv1: one probe image's feature maps, after epoch 1."
    assert captions["conv1_kernels.npz"].startswith("conv1: the kernels at every snapshot")
    assert captions["curves.png"].startswith("Loss and accuracy per epoch")


def test_every_capture_folder_gets_captions(tmp_path, make_run):
    pictures = {
        "DeepDream/dream_epoch002.png": MURAL,
        "StyleTransfer/style_transfer_epoch000.png": MURAL,
        "Interpretation/occlusion_epoch002.png": MURAL,
        "ClassificationReport/confusion_epoch005.png": MURAL,
        "PartialOutputs/stages_epoch000.png": MURAL,
    }
    run = load_run(make_run(tmp_path, artifacts=pictures))
    captions = {a.name: caption(a) for a in run.artifacts}
    occlusion = captions.pop("occlusion_epoch002.png")
    assert occlusion.startswith("Occlusion, after epoch 2: per image (titled with its true")
    assert "Left: a grey patch; right: a patch of the background's value" in occlusion
    assert captions == {
        "dream_epoch002.png": "The photo (left) and its dream, after epoch 2.",
        "style_transfer_epoch000.png": "Content, style and the result, untrained (epoch 0).",
        "confusion_epoch005.png": "Confusion matrix, after epoch 5: rows true class, columns "
        "predicted.",
        "stages_epoch000.png": "Rows: channels; columns: the layers in order, untrained (epoch 0).",
    }


TOY = {  # a run.json "captures" record: what the runner writes from Capture.describe()
    "Toy": {
        "group": "A toy capture <b>of blobs</b>.",
        "files": [
            [r"blob_{tag}\.png", "The blob, {tag}."],
            [r"(?P<what>\w+)\.csv", "The {what} table."],
            ["(unclosed", "a pattern that is no regex: left out"],
        ],
    },
    "FilterEvolution": {"group": "Kernels, as this run described them.", "files": []},
}


def _sections(page: str) -> list[str]:
    return re.findall(r"<h3 id='a-([^']*)'>", page)


def test_captions_and_groups_come_from_the_runs_captures_record(tmp_path, make_run):
    run = make_run(
        tmp_path,
        config={"name": "exp", "note": "<script>alert(1)</script>"},
        captures=TOY,
        artifacts={
            "Toy/blob_epoch002.png": MURAL,
            "Toy/counts.csv": "a,b\n1,2\n",
            "FilterEvolution/conv1_filters.png": MURAL,
            "Other/spots_epoch001.png": MURAL,
            "curves/curves.png": MURAL,
        },
    )
    page = write_run_report(run).read_text()
    assert "The blob, after epoch 2." in page and "The counts table." in page
    assert "Loss and accuracy per epoch" in page  # the curves: the report's own, if unrecorded
    assert "A toy capture &lt;b&gt;of blobs&lt;/b&gt;." in page  # the record's text is text
    assert "Kernels, as this run described them." in page
    # the record has no caption for this file: its file name, not the installed capture's
    assert "conv1 filters</figcaption>" in page and "the kernels at the last snapshot" not in page
    assert "spots, after epoch 1</figcaption>" in page  # a capture the record does not name
    assert _sections(page) == ["curves", "Toy", "FilterEvolution", "Other"]  # record's order
    assert "<script>" not in page  # autoescape: a config value is text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_without_a_record_the_installed_captures_describe_older_folders(
    tmp_path, make_run, monkeypatch
):
    artifacts = {**ARTIFACTS, "Other/spots_epoch001.png": MURAL}
    page = write_run_report(make_run(tmp_path / "a", artifacts=artifacts)).read_text()
    assert "conv1: one probe image&#39;s feature maps, after epoch 1." in page
    assert "Feature maps of a fixed probe batch" in page  # the installed capture's group
    assert _sections(page) == ["curves", "ActivationCapture", "FilterEvolution", "Other"]
    monkeypatch.setitem(sys.modules, "convwatch.callbacks", None)  # no captures to ask
    page = write_run_report(make_run(tmp_path / "b", artifacts=artifacts)).read_text()
    assert "conv1, after epoch 1</figcaption>" in page  # the file name, in words
    assert "Loss and accuracy per epoch" in page  # the runner's curves: described by the report
    assert _sections(page) == ["curves", "ActivationCapture", "FilterEvolution", "Other"]


def test_strings_from_configs_and_file_names_are_escaped(tmp_path, make_run):
    evil = "<script>alert('x')</script>"
    run = make_run(
        tmp_path,
        config={"name": "exp", "description": evil, "model": {"note": evil}},
        artifacts={"Cap/<b onmouseover='x'>&#.png": MURAL},
        error=evil,
        status="failed",
    )
    page = write_run_report(run).read_text()
    assert "<script>" not in page and "onmouseover='x'" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    # the odd file name is URL-quoted in the link, and the link still finds the file
    (link,) = [x for x in _links(page) if x.startswith("artifacts/Cap/")]
    assert link == "artifacts/Cap/%3Cb%20onmouseover%3D%27x%27%3E%26%23.png"
    assert (run / unquote(link)).is_file()


def test_links_never_leave_the_run_folder(tmp_path, make_run):
    run = make_run(tmp_path, artifacts={"Cap/a.png": MURAL})
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    (run / "artifacts" / "Cap" / "b.png").symlink_to(secret)
    (run / "artifacts" / "Up").symlink_to(tmp_path)
    page = write_run_report(run).read_text()
    assert "secret" not in page and "Up" not in page and "b.png" not in page
    assert all(not link.startswith(("..", "/")) for link in _links(page))


@pytest.mark.parametrize(
    "omit, status, expected",
    [
        (("metrics.json", "model.keras"), "failed", "metrics.json is missing"),
        (("run.json", "history.csv"), None, "run.json is missing"),
        (("config.json", "history.csv", "metrics.json", "summary.txt"), "running", "still says"),
    ],
)
def test_partial_folders_get_a_page_saying_what_is_missing(
    tmp_path, make_run, omit, status, expected
):
    run = make_run(tmp_path, omit=omit, status=status, traceback="Traceback: line 1")
    page = write_run_report(run).read_text()
    assert "This run folder is incomplete" in page and expected in page
    assert f"status-{status or 'unknown'}" in page


def test_an_empty_folder_and_an_unreadable_history_do_not_crash(tmp_path, make_run):
    run = make_run(tmp_path)
    (run / "history.csv").write_bytes(b"\xff\xfe\x00garbage")
    assert "history.csv could not be read" in render_run(load_run(run))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "run.json is missing" in render_run(load_run(empty))


def test_results_index_lists_runs_newest_first_and_old_runs_get_pages(tmp_path, make_run):
    old = make_run(tmp_path, run_id="old", started="2026-01-01T00:00:00+0000")
    new = make_run(tmp_path, run_id="new", started="2026-02-01T00:00:00+0000", status="failed")
    index = write_results_index(tmp_path).read_text()
    assert index.index(">new<") < index.index(">old<")
    assert "exp/new/index.html" in index and "exp/old/index.html" in index
    for run in (old, new):  # an index made for the first time gives older runs their pages
        assert "../../index.html" in (run / "index.html").read_text()


def test_report_command_rebuilds_pages_and_compare_writes_html(tmp_path, make_run, capsys):
    a = make_run(tmp_path, run_id="a", config={"name": "exp", "lr": 0.1}, artifacts=ARTIFACTS)
    b = make_run(tmp_path, run_id="b", config={"name": "exp", "lr": 0.2}, artifacts=ARTIFACTS)
    assert main(["report", str(tmp_path)]) == 0
    written = capsys.readouterr().out.split()
    assert str(a / "index.html") in written and str(tmp_path / "index.html") in written
    out = write_compare_report([load_run(a), load_run(b)], tmp_path / "cmp" / "c.html")
    page = out.read_text()
    assert page.count("artifacts/FilterEvolution/conv1_filters.gif") == 4  # a link and an img
    assert "conv1_epoch001.png" in page and "conv1_epoch000.png" not in page  # the last capture
    assert "#1 lr=0.1" in page and "#2 lr=0.2" in page
    for link in _links(page):
        assert (out.parent / link).exists(), link
    assert write_reports([str(a)]) == [a / "index.html"]


def test_a_report_that_fails_never_changes_the_runs_outcome(monkeypatch, caplog, tmp_path):
    def broken(path):
        raise OSError("disk full")

    monkeypatch.setattr(report, "write_run_report", broken)
    with caplog.at_level("WARNING", logger="convwatch"):
        publish.write_run_page(tmp_path)  # does not raise
    assert "report page not written (write_run_report): OSError: disk full" in caplog.text


def _broken_model():
    raise RuntimeError("the model builder broke <here>")


def test_the_runner_writes_the_page_of_a_failed_run_and_the_results_index(tmp_path):
    from convwatch import Data, Experiment, Fit, RunFailed, run_experiment

    broken = Experiment(
        name="broken",
        description="",
        build_model=_broken_model,
        data=Data(name="mnist", limit=100, test_limit=50),
        fit=Fit(epochs=1),
    )
    with pytest.raises(RunFailed, match="the model builder broke") as info:
        run_experiment(broken, results_dir=tmp_path)
    page = (info.value.path / "index.html").read_text()
    assert "status-failed" in page and "RuntimeError: the model builder broke &lt;here&gt;" in page
    assert "history.csv is missing" in page and "../../index.html" in page
    assert info.value.path.name in (tmp_path / "index.html").read_text()


# ------------------------------------------------- `convwatch report` over a damaged tree
DAMAGE = {
    "corrupt": {"run.json": "{broken"},
    "listed": {"run.json": "[1, 2, 3]", "config.json": '"just a string"'},
    "numbers": {"metrics.json": '{"metrics": 5, "references": "abc"}', "config.json": "NaN"},
    "shapeless": {
        "run.json": '{"name": ["x"], "status": 5, "started": 3, "duration_s": NaN}',
        "history.csv": "a,b\nx,y\nz,w,extra\n",
    },
    "nan": {"metrics.json": "NaN", "history.csv": "epoch,loss\n1,NaN\n2,1e999\n"},
}
WHY = {
    "corrupt": ["run.json is not valid JSON (Expecting property name"],
    "listed": [
        "run.json is not a JSON object: it holds a list",
        "config.json is not a JSON object: it holds the string 'just a string'",
    ],
    "numbers": [
        "metrics.json's 'metrics' is not a JSON object: it holds the number 5",
        "metrics.json's 'references' is not a list",
        "config.json is not a JSON object: it holds the number nan",
    ],
    "shapeless": [
        "run.json's 'name' is not a string: it holds a list",
        "history.csv holds no numbers (its columns: a, b)",
        "more fields than its header",
    ],
    "nan": ["metrics.json is not a JSON object: it holds the number nan"],
}


def _warnings(caplog) -> list[str]:
    """The warnings `write_reports` logged."""
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_report_over_a_tree_carries_on_past_bad_folders(tmp_path, make_run, caplog, monkeypatch):
    root = tmp_path / "results"
    good = make_run(root, run_id="good", artifacts=ARTIFACTS)
    bad = {}
    for name, files in DAMAGE.items():
        bad[name] = make_run(root, run_id=name)
        for file, text in files.items():
            (bad[name] / file).write_text(text)
    monkeypatch.chdir(tmp_path)
    with caplog.at_level("WARNING", logger="convwatch"):
        written = write_reports(["results"])
    warnings = _warnings(caplog)
    assert len(warnings) == len(DAMAGE), warnings  # one per bad folder, none for the good one
    for name, reasons in WHY.items():
        (line,) = [w for w in warnings if w.startswith(f"warning: results/exp/{name}: ")]
        page = (bad[name] / "index.html").read_text()
        assert "<h2 id='metrics'>" in page and "<h2 id='config'>" in page  # the whole page
        for reason in reasons:
            assert reason in line, (reason, line)
            assert reason.replace("'", "&#39;") in page, (name, reason)
    assert good / "index.html" in written and (good / "index.html").is_file()
    assert "This run folder is incomplete" not in (good / "index.html").read_text()
    index = (root / "index.html").read_text()
    for run in ("good", *DAMAGE):
        assert f"exp/{run}/index.html" in index


def test_a_page_that_cannot_be_drawn_or_written_is_a_warning_not_an_error(
    tmp_path, make_run, caplog, monkeypatch
):
    root = tmp_path / "results"
    first, second = make_run(root, run_id="first"), make_run(root, run_id="second")

    def broken(run, crumbs=()):
        if run.run_id == "first":
            raise KeyError("a shape nobody foresaw")
        return real(run, crumbs)

    real = report.render_run
    monkeypatch.setattr(report, "render_run", broken)
    write_text = report.atomic.write_text

    def full_disk(path, text):
        if "second" in str(path):
            raise OSError(28, "No space left on device")
        return write_text(path, text)

    monkeypatch.setattr(report.atomic, "write_text", full_disk)
    with caplog.at_level("WARNING", logger="convwatch"):
        write_reports([str(root)])
    warnings = "\n".join(_warnings(caplog))
    page = (first / "index.html").read_text()
    assert (
        "its page could not be drawn in full (KeyError: &#39;a shape nobody foresaw&#39;)" in page
    )
    assert f"warning: {first}: its page could not be drawn in full (KeyError" in warnings
    assert f"warning: {second}: page not written (OSError: [Errno 28] No space left" in warnings
    assert not (second / "index.html").exists() and (root / "index.html").is_file()
    assert "exp/second/" in (root / "index.html").read_text()  # still listed


def test_report_on_one_folder_that_is_no_run_still_exits_2(tmp_path, capsys):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("not a run")
    assert main(["report", str(tmp_path / "plain")]) == 2
    assert "no run folders in" in capsys.readouterr().err


def test_curves_at_the_float_limits_are_said_not_drawn(tmp_path, make_run):
    run = make_run(tmp_path, omit=("metrics.json",))
    (run / "history.csv").write_text("epoch,loss\n9007199254740996.0,-1.7e308\n1,1.7e308\n")
    page = write_run_report(run).read_text()
    assert "values too large to draw (from -1.7e+308 to 1.7e+308)" in page
    (run / "history.csv").write_text("epoch,loss\n9007199254740996.0,0\n")
    assert "<svg xmlns" in write_run_report(run).read_text()  # one point far out: drawn


# ------------------------------------------------- live pages: reload while a run goes
REFRESH_TAG = "<meta http-equiv='refresh'"


def _alive(**record):
    """run.json fields of a run going on in this very process (liveness: alive)."""
    from convwatch.base import liveness

    return {**liveness.identity(), "heartbeat": liveness.now_text(), **record}


DEAD = {  # killed on another machine: its heartbeat stopped long ago
    "pid": 4321,
    "host": "another-machine",
    "heartbeat": "2026-01-07T12:05:00+0000",
}


def test_a_running_run_page_reloads_itself_and_an_ended_or_dead_one_does_not(tmp_path, make_run):
    running = make_run(
        tmp_path,
        run_id="running",
        status="running",
        config={"name": "exp", "fit": {"epochs": 10}},
        omit=("metrics.json", "model.keras"),
        **_alive(epochs_completed=3),
    )
    page = write_run_report(running).read_text()
    assert f"{REFRESH_TAG} content='10'>" in page and "status-running" in page
    head, body = page.split("</head>")
    assert REFRESH_TAG in head and REFRESH_TAG not in body
    assert "this page reloads every 10 s while the run is running; 3 of 10 epochs done" in body
    assert "This run folder is incomplete while the run is still going" in body
    assert "final_loss" in body  # no metrics.json yet: the last epoch's row stands in
    for status, record in (("completed", {}), ("failed", {"error": "X"}), ("running", DEAD)):
        ended = make_run(tmp_path, run_id=f"{status}-{len(record)}", status=status, **record)
        page = write_run_report(ended).read_text()
        assert REFRESH_TAG not in page and "this page reloads" not in page, status
    assert "status-dead" in page  # run.json says running, liveness says dead: no reload


def test_the_results_index_lists_running_runs_first_and_reloads_while_one_is(tmp_path, make_run):
    make_run(tmp_path, run_id="new", started="2026-03-01T00:00:00+0000")
    make_run(tmp_path, run_id="dead", status="running", started="2026-02-01T00:00:00+0000", **DEAD)
    index = write_results_index(tmp_path).read_text()
    assert REFRESH_TAG not in index and index.index(">new<") < index.index(">dead<")
    make_run(
        tmp_path,
        run_id="going",
        status="running",
        started="2026-01-01T00:00:00+0000",  # the oldest, yet listed first
        config={"name": "exp", "fit": {"epochs": 4}},
        **_alive(epochs_completed=1),
    )
    index = write_results_index(tmp_path).read_text()
    assert f"{REFRESH_TAG} content='10'>" in index
    assert index.index(">going<") < index.index(">new<") < index.index(">dead<")
    assert "1 of 4 epochs done" in index and "reloads every 10 s while a run is running" in index


def _sweep(tmp_path, make_run, statuses, planned, **record):
    """A sweep folder whose points have run folders with `statuses` (sweep.json says the
    same), written by this process (`record` overrides what run.json says of it)."""
    import json

    sweep = tmp_path / "exp" / "sweep"
    points = []
    for i, status in enumerate(statuses):
        name = f"2026010{i + 1}-000000-pt{i}"
        make_run(
            sweep.parent,
            sweep.name,
            name,
            status=status,
            started=f"2026-01-0{i + 1}T00:00:00+0000",
            **_alive(**record),
        )
        points.append({"run": name, "label": f"lr={i}", "status": status})
    (sweep / "sweep.json").write_text(json.dumps({"planned": planned, "runs": points}))
    return sweep


def test_a_sweep_page_shows_its_running_point_first_and_reloads_while_going(tmp_path, make_run):
    sweep = _sweep(tmp_path, make_run, ["completed", "running"], planned=3)
    page = report.write_sweep_page_alone(sweep).read_text()
    assert REFRESH_TAG in page and "reloads every 10 s while the sweep is going" in page
    points = page[page.index("id='points'") :]
    assert points.index(">lr=1<") < points.index(">lr=0<")  # running first...
    assert "<td>2</td><td>lr=1</td>" in points  # ...with its own number
    assert not (sweep / "20260101-000000-pt0" / "index.html").exists()  # the sweep page alone


@pytest.mark.parametrize(
    "statuses, planned, record, going",
    [
        (["completed"], 2, {}, True),  # between two points, the sweep's process alive
        (["completed", "completed"], 2, {}, False),  # every point ran
        (["completed", "interrupted"], 3, {}, False),  # stopped by a signal
        (["completed"], 2, DEAD, False),  # its process is gone
    ],
)
def test_a_sweep_page_reloads_between_points_only_while_the_sweep_goes(
    tmp_path, make_run, statuses, planned, record, going
):
    sweep = _sweep(tmp_path, make_run, statuses, planned, **record)
    page = report.write_sweep_report(sweep).read_text()
    assert (REFRESH_TAG in page) is going
