"""`--launcher ray`: a sweep's points as Ray tasks on a local Ray instance of 2 CPUs, giving the
same sweep folder as the local launcher; points that raise or whose process dies; Ctrl-C and
resume; the folder sent back when the worker does not share the disk; Ray missing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from convwatch import ConvwatchError, Data, Experiment, Fit, RunFailed, run_experiment
from convwatch.base.atomic import read_json
from convwatch.cli import main
from convwatch.run import ray_launcher
from convwatch.run.runner import resume_run, run_all
from tests.run.ray_points import EXPERIMENT_MODULE, failing_classifier

TINY = Experiment(
    name="raytiny",
    description="tiny classifier, 1 epoch on 120 images",
    build_model=failing_classifier,
    data=Data(name="mnist", limit=120, test_limit=60),
    fit=Fit(epochs=1, batch_size=60),
    seed=5,
)
FILTERS = ["model.filters=1,2,3,4"]


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'convwatch[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def markers(tmp_path, monkeypatch):
    """Where the builders count their calls and remember a first death (passed to workers)."""
    folder = tmp_path / "markers"
    folder.mkdir()
    monkeypatch.setenv("CONVWATCH_TEST_MARKERS", str(folder))
    return folder


def _runs(sweep: Path) -> list[Path]:
    return sorted(p for p in sweep.iterdir() if p.is_dir())


def _files(run: Path) -> set[str]:
    """A run folder's files, TensorBoard's event files by folder (their names hold a pid)."""
    names = set()
    for path in run.rglob("*"):
        if path.is_file():
            name = path.relative_to(run).as_posix()
            names.add(name.rsplit("/", 1)[0] + "/<events>" if ".tfevents." in name else name)
    return names


def _no_half_folders(sweep: Path) -> None:
    """Nothing staged is left, and every folder in the sweep is a run whose run.json parses."""
    assert not [p.name for p in sweep.iterdir() if p.name.startswith(".incoming-")]
    assert not [p.name for p in sweep.iterdir() if p.name.startswith(".convwatch-driver-")]
    for run in _runs(sweep):
        assert isinstance(read_json(run / "run.json"), dict), run


def test_a_ray_sweep_gives_the_folder_a_local_sweep_gives(ray_instance, markers, tmp_path):
    local = run_experiment(TINY, FILTERS, tmp_path / "local")
    on_ray = run_experiment(TINY, FILTERS, tmp_path / "ray", launcher="ray", cpus_per_run=1)
    assert on_ray.name.split("-sweep-")[1] == local.name.split("-sweep-")[1]  # same points
    listings = [read_json(sweep / "sweep.json") for sweep in (local, on_ray)]
    for key in ("experiment", "overrides", "planned"):
        assert listings[0][key] == listings[1][key]
    pick = ("config_hash", "label", "status", "experiment", "overrides")
    assert [{k: r[k] for k in pick} for r in listings[0]["runs"]] == [
        {k: r[k] for k in pick} for r in listings[1]["runs"]
    ]
    assert [r["label"] for r in listings[1]["runs"]] == ["1", "2", "3", "4"]  # the plan's order
    by_hash = [sorted(_runs(s), key=lambda p: p.name.split("-")[-1]) for s in (local, on_ray)]
    pairs = list(zip(*by_hash, strict=True))
    assert len(pairs) == 4
    for mine, theirs in pairs:
        assert mine.name.split("-")[-1] == theirs.name.split("-")[-1]  # named by config hash
        assert read_json(mine / "config.json") == read_json(theirs / "config.json")
        assert read_json(theirs / "run.json")["status"] == "completed"
        ours, ray_metrics = (read_json(r / "metrics.json")["metrics"] for r in (mine, theirs))
        for key in ("test_accuracy", "test_loss", "initial_test_accuracy"):
            assert ray_metrics[key] == pytest.approx(ours[key], abs=1e-5)  # same seed
        assert _files(mine) == _files(theirs)
    for name in ("sweep_table.csv", "sweep_verdicts.txt", "sweep_curves.png", "index.html"):
        assert (on_ray / name).is_file()
    _no_half_folders(on_ray)


def test_points_that_raise_or_die_are_failed_and_the_rest_complete(ray_instance, markers, tmp_path):
    modes = ["model.mode=ok,raise,die_once,die"]
    with pytest.raises(RunFailed, match="2 of 4 sweep runs failed"):
        run_experiment(TINY, modes, tmp_path, launcher="ray")
    (sweep,) = (tmp_path / "raytiny").iterdir()
    listing = read_json(sweep / "sweep.json")
    statuses = {r["label"]: r["status"] for r in listing["runs"]}
    assert statuses == {
        "ok": "completed",
        "raise": "failed",
        "die_once": "completed",
        "die": "failed",
    }
    runs = {r["label"]: sweep / r["run"] for r in listing["runs"]}
    raised = read_json(runs["raise"] / "run.json")
    assert (
        raised["error"] == "RuntimeError: asked to break"
        and "asked to break" in raised["traceback"]
    )
    lost = read_json(runs["die"] / "run.json")
    assert lost["status"] == "failed" and "Ray worker was lost" in lost["error"]
    assert read_json(runs["die"] / "config.json")["model"]["mode"] == "die"
    built = [line.split()[1] for line in (markers / "built.log").read_text().splitlines()]
    assert built.count("die_once") == 2  # killed once, then run again by Ray
    assert built.count("die") == 2  # killed, retried once, killed again: recorded failed
    _no_half_folders(sweep)
    assert len(_runs(sweep)) == 4


def test_without_a_shared_disk_the_worker_sends_the_folder_back(
    ray_instance, markers, tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("CONVWATCH_RAY_SHARED", "0")
    caplog.set_level("INFO", logger="convwatch")
    sweep = run_experiment(TINY, ["model.mode=ok,die_once"], tmp_path, launcher="ray")
    listing = read_json(sweep / "sweep.json")
    assert [r["status"] for r in listing["runs"]] == ["completed", "completed"]
    assert caplog.text.count("sent back") == 2 and "written in place" not in caplog.text
    assert "sweep: 2/2 done (0 failed), 0 running" in caplog.text
    _no_half_folders(sweep)
    for run in _runs(sweep):
        assert (run / "model.keras").is_file() and (run / "index.html").is_file()


def test_an_interrupted_sweep_resumes_running_each_point_once(
    ray_instance, markers, tmp_path, monkeypatch
):
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "rayexp.py").write_text(EXPERIMENT_MODULE)
    progress = ray_launcher.log_progress

    def interrupt_after_the_first(*args):
        progress(*args)
        raise KeyboardInterrupt  # as Ctrl-C on the driver, once a point completed

    monkeypatch.setattr(ray_launcher, "log_progress", interrupt_after_the_first)
    results = tmp_path / "results"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(
            "rayexp", FILTERS, results, experiments_path=experiments, launcher="ray", max_parallel=1
        )
    (sweep,) = (results / "rayexp").iterdir()
    listing = read_json(sweep / "sweep.json")
    assert [r["status"] for r in listing["runs"]] == ["completed"] + ["interrupted"] * 3
    assert (sweep / "index.html").is_file()
    _no_half_folders(sweep)
    monkeypatch.setattr(ray_launcher, "log_progress", progress)

    assert resume_run(sweep, experiments_path=experiments, launcher="ray") == sweep
    listing = read_json(sweep / "sweep.json")
    assert [r["status"] for r in listing["runs"]] == ["completed"] * 4
    assert len(_runs(sweep)) == 4  # each point once: no folder was left by the interruption
    built = (markers / "built.log").read_text().splitlines()
    assert sorted(line.split()[0] for line in built) == ["1", "2", "3", "4"]
    assert (sweep / "sweep_table.csv").is_file()
    with pytest.raises(ConvwatchError, match="every point completed"):
        resume_run(sweep, experiments_path=experiments, launcher="ray")


def test_a_single_run_on_ray_is_one_task(ray_instance, markers, tmp_path):
    path = run_experiment(TINY, [], tmp_path, launcher="ray")
    assert path.parent == tmp_path / "raytiny"
    assert read_json(path / "run.json")["status"] == "completed"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no marker left
    with pytest.raises(RunFailed, match="asked to break"):
        run_experiment(TINY, ["model.mode=raise"], tmp_path, launcher="ray")


def test_without_ray_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ConvwatchError, match=r"needs Ray: pip install 'convwatch\[ray\]'"):
        run_experiment(TINY, FILTERS, tmp_path, launcher="ray")
    assert not list(tmp_path.iterdir())  # before any folder


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"launcher": "dask"}, "launcher must be one of local, ray. Received: 'dask'"),
        ({"launcher": "ray", "cpus_per_run": 0}, "cpus_per_run must be a number > 0"),
        ({"launcher": "ray", "gpus_per_run": -1}, "gpus_per_run must be a number >= 0"),
        ({"launcher": "ray", "max_parallel": 0}, "max_parallel must be None or an integer >= 1"),
        ({"ray_address": "auto"}, "--ray-address needs --launcher ray"),
    ],
)
def test_bad_launcher_options_stop_before_any_folder(tmp_path, options, message):
    with pytest.raises(ConvwatchError, match=message.replace("(", r"\(").replace("[", r"\[")):
        run_experiment(TINY, FILTERS, tmp_path, **options)
    assert not list(tmp_path.iterdir())


def test_sweep_json_lists_what_resume_needs(tmp_path, markers):
    sweep = run_experiment(TINY, ["model.filters=1,2"], tmp_path)
    listing = json.loads((sweep / "sweep.json").read_text())
    assert listing["experiment"] == "raytiny"
    assert [r["overrides"] for r in listing["runs"]] == [["model.filters=1"], ["model.filters=2"]]


def test_a_worker_sizes_tensorflow_to_its_cpus():
    code = (
        "from convwatch.run.ray_task import limit_threads; import os, tensorflow as tf; "
        "t = tf.config.threading; print(limit_threads(1.5), t.get_intra_op_parallelism_threads(),"
        " t.get_inter_op_parallelism_threads(), os.environ['OMP_NUM_THREADS'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["1", "1", "1", "1"], done.stderr  # 1.5 CPUs: 1 thread


def test_ctrl_c_on_a_command_line_driver_then_resume(ray_instance, markers, tmp_path):
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "rayexp.py").write_text(EXPERIMENT_MODULE)
    results = tmp_path / "results"
    env = {**os.environ, "CONVWATCH_EXPERIMENTS": str(experiments), "PYTHONPATH": os.getcwd()}
    # Points of 2 epochs end soon; those of 80 (over 10 s) are still running at Ctrl-C, and
    # past the seconds a cancelled task gets to end by itself.
    axes = ["model.filters=1,2", "fit.epochs=2,80"]
    argv = ["run", "rayexp", *axes, "--launcher", "ray", "--results-dir", str(results)]
    driver = subprocess.Popen(
        [sys.executable, "-m", "convwatch", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and driver.poll() is None:
        listings = list(results.glob("rayexp/*/sweep.json"))
        if listings and '"completed"' in listings[0].read_text():
            break
        time.sleep(0.2)
    driver.send_signal(signal.SIGINT)
    out = driver.communicate(timeout=60)[0]
    assert driver.returncode == 130, out
    (sweep,) = (results / "rayexp").iterdir()
    statuses = [r["status"] for r in read_json(sweep / "sweep.json")["runs"]]
    assert "completed" in statuses and "interrupted" in statuses, statuses
    assert set(statuses) <= {"completed", "interrupted"}
    _no_half_folders(sweep)
    assert (sweep / "index.html").is_file()

    assert (
        main(["--experiments-dir", str(experiments), "resume", str(sweep), "--launcher", "ray"])
        == 0
    )
    assert [r["status"] for r in read_json(sweep / "sweep.json")["runs"]] == ["completed"] * 4
    assert len(_runs(sweep)) == 4  # what completed before Ctrl-C was not run again
    _no_half_folders(sweep)


def test_run_all_submits_every_point_of_every_experiment_together(
    ray_instance, markers, tmp_path, caplog
):
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "rayexp.py").write_text(EXPERIMENT_MODULE)
    swept = EXPERIMENT_MODULE.replace('name="rayexp"', 'name="rayswept"').replace(
        "seed=5,", 'seed=5, sweep=("model.filters=1,2",),'
    )
    (experiments / "rayswept.py").write_text(swept)
    caplog.set_level("INFO", logger="convwatch")
    single, sweep = run_all(
        [], ["data.limit=100"], tmp_path / "results", experiments_path=experiments, launcher="ray"
    )
    assert single.parent.name == "rayexp" and sweep.parent.name == "rayswept"
    assert read_json(single / "run.json")["status"] == "completed"
    assert read_json(single / "config.json")["data"]["limit"] == 100
    listing = read_json(sweep / "sweep.json")
    assert [(r["label"], r["status"]) for r in listing["runs"]] == [
        ("1", "completed"),
        ("2", "completed"),
    ]
    assert "points: 3/3 done (0 failed), 0 running" in caplog.text  # one batch of 3 points
    assert (sweep / "sweep_table.csv").is_file()
