"""`convwatch run --resume RUN` continues an interrupted run from its last checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from convwatch.base.atomic import read_csv, read_json
from convwatch.cli import main
from tests.slow_layer import slow_layer_source

SLOW_MODULE = (
    '"""20 epochs slowed to about 0.1 s each, so a signal lands mid-run."""'
    + slow_layer_source(0.01)
    + textwrap.dedent(
        """
    from convwatch import Data, Experiment, Fit


    def build():
        return keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Flatten(),
            Slow(),
            keras.layers.Dense(10, activation="softmax"),
        ])


    EXPERIMENT = Experiment(
        name="slow", description="slow tiny epochs", build_model=build,
        data=Data(name="mnist", limit=100, test_limit=20),
        fit=Fit(epochs=20, batch_size=10, validation="none"),
    )
    """
    )
)


def test_resume_continues_from_the_checkpoint_appending_history(tmp_path, monkeypatch, capsys):
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "slow.py").write_text(SLOW_MODULE)
    results = tmp_path / "results"
    env = {**os.environ, "CONVWATCH_EXPERIMENTS": str(experiments), "CONVWATCH_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "convwatch", "run", "slow", "--results-dir", str(results)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    run = None
    while time.monotonic() < deadline and process.poll() is None:
        found = list(results.rglob("history.csv"))
        if found and len(read_csv(found[0])) >= 3:  # epoch 1 checkpointed; 2, 3 are not (10 s)
            run = found[0].parent
            break
        time.sleep(0.05)
    assert run is not None, process.communicate()
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    record = read_json(run / "run.json")
    assert record["status"] == "interrupted" and record["checkpoint_epoch"] == 1
    assert record["epochs_completed"] >= 3 and (run / "checkpoint.keras").is_file()

    monkeypatch.setenv("CONVWATCH_EXPERIMENTS", str(experiments))
    assert main(["run", "--resume", str(run)]) == 0
    record = read_json(run / "run.json")
    assert record["status"] == "completed" and record["epochs_completed"] == 20
    assert [r["from_epoch"] for r in record["resumed"]] == [1]
    epochs = [int(row["epoch"]) for row in read_csv(run / "history.csv")]
    assert epochs == list(range(1, 21))  # epochs after the checkpoint are run again, not doubled
    assert not (run / "checkpoint.keras").exists() and (run / "model.keras").is_file()

    capsys.readouterr()
    assert main(["run", "--resume", str(run)]) == 2  # a completed run has nothing to resume
    assert "already completed" in capsys.readouterr().err
    assert main(["run", "--resume", str(tmp_path / "nope")]) == 2
    assert "not a run folder" in capsys.readouterr().err
