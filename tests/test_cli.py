"""The `convwatch` command: exit statuses and messages a user sees."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from convwatch.base.atomic import read_json
from convwatch.cli import main

TINY_MODULE = textwrap.dedent(
    '''
    """A tiny experiment for the CLI tests."""
    import keras
    from convwatch import Data, Experiment, Fit


    def build(broken: bool = False):
        if broken:
            raise ValueError("asked to break")
        return keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ])


    EXPERIMENT = Experiment(
        name="tiny", description="tiny dense net", build_model=build,
        data=Data(name="mnist", limit=100, test_limit=50), fit=Fit(epochs=1, batch_size=50),
    )
    '''
)


@pytest.fixture
def experiments(tmp_path, monkeypatch):
    folder = tmp_path / "experiments"
    folder.mkdir()
    (folder / "tiny.py").write_text(TINY_MODULE)
    monkeypatch.setenv("CONVWATCH_EXPERIMENTS", str(folder))
    return folder


def test_list_prints_names_and_descriptions(experiments, capsys):
    assert main(["list"]) == 0
    assert "tiny  tiny dense net" in capsys.readouterr().out


def test_run_prints_the_run_folder(experiments, tmp_path, capsys):
    results = tmp_path / "results"
    assert main(["run", "tiny", "--results-dir", str(results)]) == 0
    path = capsys.readouterr().out.strip().splitlines()[-1]
    assert read_json(os.path.join(path, "run.json"))["status"] == "completed"


@pytest.mark.parametrize("name", ["nope", "../x", "/etc/passwd", "tiny.py", ""])
def test_unknown_or_path_like_names_exit_2_listing_experiments(experiments, tmp_path, capsys, name):
    results = tmp_path / "results"
    assert main(["run", name, "--results-dir", str(results)]) == 2
    err = capsys.readouterr().err
    assert "Available experiments: tiny" in err
    assert not results.exists()


def test_bad_override_exits_2_naming_key_and_valid_keys(experiments, tmp_path, capsys):
    results = tmp_path / "results"
    assert main(["run", "tiny", "fit.epoch=3", "--results-dir", str(results)]) == 2
    err = capsys.readouterr().err
    assert "'fit.epoch'" in err and "fit.epochs" in err
    assert main(["run", "tiny", "fit.epochs=many", "--results-dir", str(results)]) == 2
    assert "fit.epochs takes a value of type int" in capsys.readouterr().err
    assert not results.exists()


def test_failed_run_exits_1_and_run_json_says_failed(experiments, tmp_path, capsys):
    results = tmp_path / "results"
    assert main(["run", "tiny", "model.broken=true", "--results-dir", str(results)]) == 1
    assert "asked to break" in capsys.readouterr().err
    (run_dir,) = (results / "tiny").iterdir()
    run = read_json(run_dir / "run.json")
    assert run["status"] == "failed" and "ValueError: asked to break" in run["error"]


def test_unwritable_results_dir_exits_2(experiments, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["run", "tiny", "--results-dir", str(blocker / "results")]) == 2
    assert "cannot create results folder" in capsys.readouterr().err


def test_the_installed_command_exits_2_for_an_unknown_experiment(experiments, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "convwatch", "run", "nope", "--results-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "unknown experiment 'nope'" in done.stderr
