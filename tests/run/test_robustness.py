"""Runs that survive: signals, NaN losses, SIGKILL, concurrent starts, bad input, safe loading."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from convwatch import Data, Experiment, Fit, Optimizer, RunFailed, run_experiment
from convwatch.base.atomic import read_csv, read_json
from convwatch.cli import main
from convwatch.run.spec import Compile

# A long run of short epochs: the tests signal it once its first epoch is on disk.
LONG_MODULE = textwrap.dedent(
    '''
    """A long run of tiny epochs, for the signal tests."""
    import keras
    from convwatch import Data, Experiment, Fit


    def build():
        return keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(2, 3, name="conv"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax", name="predictions"),
        ])


    EXPERIMENT = Experiment(
        name="long", description="many tiny epochs", build_model=build,
        data=Data(name="mnist", limit=100, test_limit=20),
        fit=Fit(epochs=400, batch_size=10, steps_per_epoch=10, validation="none"),
        callbacks={"WeightRange": {"every_n_steps": 3, "every_n_epochs": 0}},
    )
    '''
)


@pytest.fixture
def long_module(tmp_path):
    folder = tmp_path / "experiments"
    folder.mkdir()
    (folder / "long.py").write_text(LONG_MODULE)
    return folder


def _start(experiments: Path, results: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "CONVWATCH_EXPERIMENTS": str(experiments), "CONVWATCH_OFFLINE": "1"}
    command = [sys.executable, "-m", "convwatch", "run", "long", *args]
    return subprocess.Popen(
        [*command, "--results-dir", str(results)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_epochs(process: subprocess.Popen, results: Path, epochs: int = 1) -> Path:
    """The run folder, once history.csv holds `epochs` rows (the run is mid-training)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for history in results.rglob("history.csv"):
            if len(read_csv(history)) >= epochs:
                return history.parent
        time.sleep(0.1)
    process.kill()
    raise AssertionError("the run never finished an epoch")


def test_sigterm_stops_the_run_cleanly_with_status_143(long_module, tmp_path):
    signum = signal.SIGTERM  # SIGINT (130) is sent in the sweep and resume tests
    results = tmp_path / "results"
    process = _start(long_module, results)
    run = _wait_for_epochs(process, results)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err  # 128 + 15
    record = read_json(run / "run.json")
    assert record["status"] == "interrupted" and record["ended"]
    assert 1 <= record["epochs_completed"] < 400
    assert signal.Signals(signum).name in record["error"]
    assert len(read_csv(run / "history.csv")) == record["epochs_completed"]
    assert (run / "index.html").is_file()  # the report page was written
    assert f"interrupted by {signal.Signals(signum).name}" in err


def test_an_interrupted_sweep_says_which_runs_finished(long_module, tmp_path):
    results = tmp_path / "results"
    process = _start(long_module, results, "fit.epochs=2,400")
    _wait_for_epochs(process, results, epochs=1)
    # The first run (2 epochs) completes; interrupt the second once it is training.
    deadline = time.monotonic() + 60
    while len(list(results.rglob("history.csv"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    (sweep,) = (results / "long").iterdir()
    listing = read_json(sweep / "sweep.json")
    assert listing["planned"] == 2
    assert [r["status"] for r in listing["runs"]] == ["completed", "interrupted"]


def test_sigkill_mid_epoch_leaves_only_files_that_parse(long_module, tmp_path):
    from PIL import Image

    from convwatch.base.atomic import read_npz

    results = tmp_path / "results"
    process = _start(long_module, results)
    run = _wait_for_epochs(process, results, epochs=2)
    time.sleep(0.3)  # somewhere inside a later epoch
    process.kill()
    process.communicate(timeout=30)
    checked = 0
    for path in run.rglob("*"):
        if not path.is_file() or path.name.startswith(".") or "tensorboard" in path.parts:
            continue  # hidden temporaries are the atomic writes' scratch; TF event logs append
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".csv":
            assert read_csv(path), path
        elif path.suffix == ".npz":
            read_npz(path)
        elif path.suffix in (".png", ".gif"):
            with Image.open(path) as image:
                image.load()
        checked += 1
    assert checked >= 3
    assert read_json(run / "run.json")["status"] == "running"  # killed: no time to say more


def test_four_processes_started_together_get_four_folders(tmp_path):
    start = time.time() + 2  # every process waits for the same instant, then creates
    code = textwrap.dedent(
        f"""
        import sys, time
        from convwatch.run.folder import RunFolder
        time.sleep(max(0, {start} - time.time()))
        print(RunFolder.create(sys.argv[1], "abc1234").path)
        """
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    folders = {p.communicate(timeout=30)[0].strip() for p in processes}
    assert all(p.returncode == 0 for p in processes)
    assert len(folders) == 4 and len(list(tmp_path.iterdir())) == 4


def explode_after(steps: int = 25):
    """A tiny classifier whose output becomes NaN after `steps` training steps."""
    import keras

    class ExplodeAfter(keras.layers.Layer):
        def __init__(self, steps: int, **kwargs):
            super().__init__(**kwargs)
            self.steps = steps

        def build(self, shape):
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, x, training=False):
            if training:
                self.count.assign_add(1.0)
            return x * keras.ops.where(self.count > self.steps, float("nan"), 1.0)

        def get_config(self):
            return {**super().get_config(), "steps": self.steps}

    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
            ExplodeAfter(steps),
        ]
    )


NAN = Experiment(
    name="nan",
    description="NaN in epoch 2",
    build_model=explode_after,
    data=Data(name="mnist", limit=200, test_limit=50),
    compile=Compile(optimizer=Optimizer("sgd", 1e-2)),
    fit=Fit(epochs=3, batch_size=10),  # 20 steps an epoch: NaN at epoch 2 step 6
)


def test_a_nan_loss_fails_the_run_keeping_the_curves_so_far(tmp_path):
    with pytest.raises(RunFailed, match="loss became NaN at epoch 2 step 6") as info:
        run_experiment(NAN, results_dir=tmp_path)
    record = read_json(info.value.path / "run.json")
    assert record["status"] == "failed" and "loss became NaN at epoch 2 step 6" in record["error"]
    assert record["epochs_completed"] == 1
    (row,) = read_csv(info.value.path / "history.csv")
    assert math.isfinite(float(row["loss"]))


def test_on_nan_continue_lets_the_loss_explode(tmp_path):
    path = run_experiment(NAN, ["fit.on_nan=continue"], results_dir=tmp_path)
    assert read_json(path / "run.json")["status"] == "completed"
    losses = [float(row["loss"]) for row in read_csv(path / "history.csv")]
    assert math.isfinite(losses[0]) and math.isnan(losses[-1])


def test_on_nan_takes_only_stop_or_continue(tmp_path):
    from convwatch import ConvwatchError

    with pytest.raises(ConvwatchError, match="fit.on_nan must be one of stop, continue"):
        run_experiment(NAN, ["fit.on_nan=ignore"], results_dir=tmp_path)


TINY_MODULE = textwrap.dedent(
    '''
    """A tiny Fashion-MNIST experiment for the corrupt-data tests."""
    import keras
    from convwatch import Data, Experiment, Fit


    def build():
        return keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ])


    EXPERIMENT = Experiment(
        name="tiny", description="tiny dense net", build_model=build,
        data=Data(name="fashion_mnist", limit=100, test_limit=50), fit=Fit(epochs=1),
    )
    '''
)


def _idx_bytes(magic: int, *dims: int) -> bytes:
    import struct

    size = math.prod(dims)
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims) + bytes(size)


@pytest.mark.parametrize(
    "damage, message",
    [
        ("truncated_gz", "cannot read IDX file"),
        ("wrong_magic", "has magic number"),
        ("empty", "is truncated"),
    ],
)
def test_a_corrupt_dataset_file_exits_2_naming_it(tmp_path, monkeypatch, capsys, damage, message):
    import gzip

    data = tmp_path / "fashion"
    data.mkdir()
    files = {
        "train-images-idx3-ubyte": _idx_bytes(0x803, 10, 28, 28),
        "train-labels-idx1-ubyte": _idx_bytes(0x801, 10),
        "t10k-images-idx3-ubyte": _idx_bytes(0x803, 10, 28, 28),
        "t10k-labels-idx1-ubyte": _idx_bytes(0x801, 10),
    }
    if damage == "wrong_magic":
        files["train-images-idx3-ubyte"] = _idx_bytes(0x801, 10)
    if damage == "empty":
        files["train-images-idx3-ubyte"] = b""
    for stem, raw in files.items():
        packed = gzip.compress(raw)
        if damage == "truncated_gz" and stem.startswith("train-images"):
            packed = packed[: len(packed) // 2]
        (data / f"{stem}.gz").write_bytes(packed)
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "tiny.py").write_text(TINY_MODULE)
    monkeypatch.setenv("CONVWATCH_EXPERIMENTS", str(experiments))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(data))
    assert main(["run", "tiny", "--results-dir", str(tmp_path / "results")]) == 2
    err = capsys.readouterr().err
    assert message in err and "train-images-idx3-ubyte" in err
    (run,) = (tmp_path / "results" / "tiny").iterdir()
    assert read_json(run / "run.json")["status"] == "failed"


def test_report_on_a_missing_or_empty_folder_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "no such run folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "no run folders in" in capsys.readouterr().err


def test_report_on_a_corrupt_run_json_warns_and_writes_the_page(tmp_path, make_run, capsys):
    run = make_run(tmp_path)
    (run / "run.json").write_text("{broken")
    assert main(["report", str(run)]) == 0
    said = capsys.readouterr()  # the CLI's console handler: stdout for every level
    assert f"warning: {run}: run.json is not valid JSON" in said.out + said.err
    assert "run.json is not valid JSON" in (run / "index.html").read_text()


def test_crafted_paths_in_run_files_never_leave_the_run_folder(tmp_path, make_run, capsys):
    root = tmp_path / "results"
    run = make_run(
        root,
        experiment="exp",
        name="../../../outside",
        command="<script>alert(1)</script>",
        config={"name": "../../outside", "build_model": "../../evil.py:build"},
    )
    before = set(tmp_path.rglob("*"))
    assert main(["report", str(run)]) == 0
    written = set(tmp_path.rglob("*")) - before
    assert written and all(p.is_relative_to(run) for p in written), written
    page = (run / "index.html").read_text()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
