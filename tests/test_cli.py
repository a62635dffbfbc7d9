"""The `convwatch` command: exit statuses and messages a user sees."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest

from convwatch import cli
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


def test_quiet_run_prints_only_the_run_folder(experiments, tmp_path, capsys):
    results = tmp_path / "results"
    assert main(["--quiet", "run", "tiny", "--results-dir", str(results)]) == 0
    (path,) = capsys.readouterr().out.splitlines()  # no progress lines, only the answer
    assert read_json(os.path.join(path, "run.json"))["status"] == "completed"
    assert main(["run", "tiny", "--results-dir", str(results), "--quiet"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1  # the flag after the command too


def test_a_run_shows_its_progress_by_default(experiments, tmp_path, capsys):
    assert main(["run", "tiny", "--results-dir", str(tmp_path / "results")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 1  # the runner's progress lines, then the run folder
    assert os.path.isdir(lines[-1])


@pytest.fixture
def chatty(monkeypatch):
    """`convwatch list` logs one line at each level, from a logger under "convwatch"."""

    def list_experiments(path=None):
        log = logging.getLogger("convwatch.chatty")
        log.debug("debug line")
        log.info("info line")
        log.warning("warning line")
        return []

    monkeypatch.setattr(cli, "list_experiments", list_experiments)


@pytest.mark.parametrize(
    "argv, progress",
    [
        (["list"], ["info line"]),
        (["--quiet", "list"], []),
        (["list", "-q"], []),
        (["--verbose", "list"], ["debug line", "info line"]),
        (["list", "-v"], ["debug line", "info line"]),
    ],
)
def test_quiet_and_verbose_choose_which_log_lines_show(chatty, capsys, argv, progress):
    """Progress goes to stdout as plain lines; warnings to stderr, prefixed, at every level."""
    logger = logging.getLogger("convwatch")
    handlers, level = list(logger.handlers), logger.level
    assert main(argv) == 0
    assert main(argv) == 0  # a second call does not stack a second console handler
    out = capsys.readouterr()
    assert out.out.splitlines() == progress * 2
    assert out.err.splitlines() == ["convwatch: warning line"] * 2
    assert logger.handlers == handlers and logger.level == level  # put back as it was


def test_quiet_and_verbose_together_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--quiet", "--verbose", "list"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_library_alone_logs_nowhere():
    """`import convwatch` gives its logger a NullHandler: a user's program sees nothing unless
    it configures logging."""
    handlers = logging.getLogger("convwatch").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
    assert not any(type(h) is logging.StreamHandler for h in handlers)


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


def test_launcher_flags_reach_the_runner(experiments, tmp_path, monkeypatch):
    seen = {}

    def fake_run(name, overrides, results_dir, **kwargs):
        seen.update(name=name, overrides=overrides, **kwargs)
        return tmp_path

    monkeypatch.setattr(cli, "run_experiment", fake_run)
    argv = ["run", "tiny", "seed=1,2", "--launcher", "ray", "--ray-address", "auto"]
    argv += ["--cpus-per-run", "2", "--gpus-per-run", "0.5", "--max-parallel", "3"]
    assert main(argv) == 0
    assert seen["overrides"] == ["seed=1,2"] and seen["launcher"] == "ray"
    assert seen["ray_address"] == "auto" and seen["max_parallel"] == 3
    assert seen["cpus_per_run"] == 2 and isinstance(seen["cpus_per_run"], int)
    assert seen["gpus_per_run"] == 0.5
    assert main(["run", "tiny"]) == 0  # the defaults: today's local launcher
    assert seen["launcher"] == "local" and seen["cpus_per_run"] == 1
    assert seen["max_parallel"] is None and seen["ray_address"] is None


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--launcher", "ray", "--cpus-per-run", "0"], "cpus_per_run must be a number > 0"),
        (["--launcher", "ray", "--max-parallel", "0"], "max_parallel must be None or an integer"),
        (["--ray-address", "auto"], "--ray-address needs --launcher ray"),
    ],
)
def test_bad_launcher_flags_exit_2_before_any_folder(experiments, tmp_path, capsys, flags, message):
    results = tmp_path / "results"
    assert main(["run", "tiny", "--results-dir", str(results), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not results.exists()


def test_an_unknown_launcher_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "tiny", "--launcher", "dask"])
    assert exit_.value.code == 2
    assert "invalid choice: 'dask'" in capsys.readouterr().err


def test_without_ray_the_ray_launcher_exits_2_saying_what_to_install(
    experiments, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    results = tmp_path / "results"
    assert main(["run", "tiny", "--launcher", "ray", "--results-dir", str(results)]) == 2
    assert "--launcher ray needs Ray: pip install 'convwatch[ray]'" in capsys.readouterr().err
    assert not results.exists()


def test_run_all_runs_every_experiment_with_the_overrides_given(experiments, tmp_path, capsys):
    (experiments / "other.py").write_text(TINY_MODULE.replace('name="tiny"', 'name="other"'))
    results = tmp_path / "results"
    assert main(["run-all", "fit.epochs=1", "--results-dir", str(results)]) == 0
    paths = capsys.readouterr().out.splitlines()[-2:]
    assert [os.path.basename(os.path.dirname(p)) for p in paths] == ["other", "tiny"]
    for path in paths:
        assert read_json(os.path.join(path, "run.json"))["status"] == "completed"
    assert main(["run-all", "tiny", "model.broken=true,false", "--results-dir", str(results)]) == 1
    assert "1 of 2 sweep runs failed" in capsys.readouterr().err  # one plan: its own error


def test_resume_of_a_sweep_runs_only_the_points_not_completed(experiments, tmp_path, capsys):
    results = tmp_path / "results"
    assert main(["run", "tiny", "model.broken=false,true", "--results-dir", str(results)]) == 1
    (sweep,) = (results / "tiny").iterdir()
    listing = read_json(sweep / "sweep.json")
    assert [r["status"] for r in listing["runs"]] == ["completed", "failed"]
    completed_run, failed_run = (r["run"] for r in listing["runs"])
    assert main(["resume", str(sweep)]) == 1  # the broken point fails again, alone
    listing = read_json(sweep / "sweep.json")
    assert listing["runs"][0]["run"] == completed_run  # not run again
    assert listing["runs"][1]["earlier_runs"] == [failed_run]  # left in place, not deleted
    assert (sweep / failed_run / "run.json").is_file()
    assert len([p for p in sweep.iterdir() if p.is_dir()]) == 3
    assert "1 of 2 sweep runs failed" in capsys.readouterr().err
