"""fit.strategy=mirrored: the same run, capture callbacks included, on two logical CPU devices
matches one device."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf

    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import keras
    from convwatch import Data, Experiment, Fit, Optimizer, run_experiment
    from convwatch.run.spec import Compile
    from convwatch.base.atomic import read_csv, read_json


    def build():
        return keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(4, name="pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(10, activation="softmax", name="predictions"),
        ])


    experiment = Experiment(
        name="tiny", description="", build_model=build,
        data=Data(name="mnist", limit=200, test_limit=100),
        compile=Compile(optimizer=Optimizer("sgd", 0.05)),
        fit=Fit(epochs=2, batch_size=50, shuffle=False), seed=1,
        callbacks={
            "ActivationCapture": {}, "FilterEvolution": {}, "ClassificationReport": {},
            "WeightRange": {"every_n_steps": 2, "every_n_epochs": 0},
        },
    )
    out = {}
    for strategy in ("default", "mirrored"):
        path = run_experiment(experiment, [f"fit.strategy={strategy}"], results_dir=sys.argv[1])
        files = sorted(
            p.relative_to(path).as_posix() for p in path.rglob("*")
            if p.is_file() and "tensorboard" not in p.parts
        )
        out[strategy] = {
            "run": read_json(path / "run.json"),
            "metrics": read_json(path / "metrics.json")["metrics"],
            "history": read_csv(path / "history.csv"),
            "files": files,
        }
    print("RESULT " + json.dumps(out))
    """
)


def test_a_mirrored_run_matches_a_single_device_run(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    single, mirrored = json.loads(line[len("RESULT ") :]).values()
    assert mirrored["run"]["replicas"] == 2 and "replicas" not in single["run"]
    assert mirrored["run"]["status"] == single["run"]["status"] == "completed"
    assert mirrored["files"] == single["files"]  # the same artifacts
    for key in ("test_loss", "test_accuracy", "final_loss"):
        assert mirrored["metrics"][key] == pytest.approx(single["metrics"][key], rel=1e-3), key
    for a, b in zip(single["history"], mirrored["history"], strict=True):
        assert float(a["loss"]) == pytest.approx(float(b["loss"]), rel=1e-3)


def test_multiworker_is_refused_before_any_folder_with_the_reason(tmp_path):
    from convwatch import ConvwatchError, run_experiment
    from tests.run.test_runner import TINY

    with pytest.raises(ConvwatchError, match=r"multiworker does not work with Keras 3\.\d+"):
        run_experiment(TINY, ["fit.strategy=multiworker"], results_dir=tmp_path)
    assert not any(tmp_path.iterdir())
