"""A run killed with SIGKILL mid-epoch is shown `dead` by every reader, and `convwatch resume`
brings it to completed from its checkpoint."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

from convwatch.base.atomic import read_csv, read_json
from convwatch.base.liveness import parse_time
from convwatch.cli import main
from convwatch.report.reader import load_run
from tests.slow_layer import slow_layer_source

# Four epochs of 25 steps, each step slowed to 20 ms: about half a second per epoch.
SLEEPY_MODULE = (
    '"""Four slow epochs on the shapes image, so that a kill lands mid-epoch."""'
    + slow_layer_source(0.02)
    + textwrap.dedent(
        """
    from convwatch import Compile, Data, Experiment, Fit, Optimizer


    def build():
        return keras.Sequential([
            keras.Input(shape=(16, 16, 3)),
            Slow(),
            keras.layers.Conv2D(3, 3, padding="same", name="conv"),
        ])


    EXPERIMENT = Experiment(
        name="sleepy", description="four slow epochs", build_model=build,
        data=Data(name="shapes", options={"size": 16}),
        compile=Compile(optimizer=Optimizer("adam", 1e-2), loss="mse", metrics=()),
        fit=Fit(epochs=4, batch_size=1, steps_per_epoch=25, validation="none", shuffle=False),
    )
    """
    )
)


def _wait_for_second_epoch(process: subprocess.Popen, results, log) -> tuple:
    """(run folder, run.json) once epoch 1 is checkpointed and the run is inside epoch 2."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        for path in results.rglob("run.json"):
            record = read_json(path)
            if record["checkpoint_epoch"] >= 1 and (path.parent / "heartbeat.json").is_file():
                return path.parent, record
        time.sleep(0.02)
    process.kill()
    raise AssertionError(f"the run never saved its first checkpoint:\n{log.read_text()}")


def test_a_killed_run_is_dead_to_every_reader_and_resume_completes_it(tmp_path, capsys):
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "sleepy.py").write_text(SLEEPY_MODULE)
    results, log = tmp_path / "results", tmp_path / "run.log"
    env = {**os.environ, "CONVWATCH_OFFLINE": "1", "CONVWATCH_HEARTBEAT_EVERY_S": "0.1"}
    command = [sys.executable, "-m", "convwatch", "--experiments-dir", str(experiments)]
    with open(log, "w") as out:
        process = subprocess.Popen(
            [*command, "run", "sleepy", "--results-dir", str(results)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        run, record = _wait_for_second_epoch(process, results, log)
        assert record["pid"] == process.pid and record["host"] == socket.gethostname()
        assert time.time() - parse_time(record["heartbeat"]) < 60
        assert read_json(run / "heartbeat.json")["pid"] == process.pid
        time.sleep(0.15)  # well inside epoch 2 (epoch 1 ended, its checkpoint is on disk)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    record = read_json(run / "run.json")
    assert record["status"] == "running" and record["checkpoint_epoch"] == 1  # never rewritten
    assert record["epochs_completed"] < 4
    gone = f"process {process.pid} on host {socket.gethostname()} is gone; last heartbeat "

    capsys.readouterr()
    assert main(["compare", str(results)]) == 0
    out = capsys.readouterr().out
    header, _, row, *notes = out.splitlines()
    assert header.split()[:3] == ["experiment", "run", "status"]
    assert row.split()[:3] == ["sleepy", run.name, "dead"]
    assert notes[-1].startswith(f"{run.name}: dead: {gone}")

    assert main(["report", str(results)]) == 0
    page = (run / "index.html").read_text()
    assert "class='status status-dead'" in page and f"<b>dead:</b> {gone}" in page
    assert "continues it from its checkpoint after epoch 1" in page
    index = (results / "index.html").read_text()
    assert "class='status status-dead'" in index and gone in index
    assert read_json(run / "run.json") == record  # readers never rewrite run.json

    assert main(["--experiments-dir", str(experiments), "resume", str(run)]) == 0
    record = read_json(run / "run.json")
    assert record["status"] == "completed" and record["epochs_completed"] == 4
    assert record["pid"] == os.getpid()
    (resumed,) = record["resumed"]
    assert resumed["from_epoch"] == 1 and resumed["from_status"] == "dead"
    assert resumed["dead"].startswith(gone)
    assert [int(row["epoch"]) for row in read_csv(run / "history.csv")] == [1, 2, 3, 4]
    assert (run / "model.keras").is_file() and not (run / "checkpoint.keras").exists()
    assert not (run / "heartbeat.json").exists()  # the heartbeat stopped with the run
    assert load_run(run).status == "completed"
    assert "class='status status-completed'" in (run / "index.html").read_text()
    index = (results / "index.html").read_text()  # resume rewrote the results index too
    assert "class='status status-completed'" in index and "class='status status-dead'" not in index
