"""A declared sweep: optimiser presets as one value each, the sweep folder's layout and summary."""

from __future__ import annotations

import json
import logging

import pytest
from PIL import Image

from convwatch import Compile, Data, Experiment, Fit, Optimizer, apply_overrides, run_experiment
from convwatch.base.atomic import read_csv, read_json
from convwatch.run.keras_setup import make_optimizer
from convwatch.run.spec import OPTIMIZER_PRESETS


def tiny_mlp(units: int = 8):
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


OPTIMIZERS = Experiment(
    name="optimizers",
    description="two optimisers as a declared sweep",
    build_model=tiny_mlp,
    data=Data(name="mnist", limit=100, test_limit=50),
    compile=Compile(optimizer=Optimizer("adam", None)),
    fit=Fit(epochs=2, batch_size=50),
    sweep=("compile.optimizer.name=sgd,sgd_momentum",),
)


def test_presets_stand_for_an_optimizer_with_its_options():
    sgd = make_optimizer(Optimizer("sgd_momentum", None))
    assert type(sgd).__name__ == "SGD" and sgd.momentum == pytest.approx(0.9)
    assert float(sgd.learning_rate) == pytest.approx(0.01)  # None: Keras' own default
    assert float(make_optimizer(Optimizer("sgd_momentum", 0.1)).learning_rate) == pytest.approx(0.1)
    assert OPTIMIZER_PRESETS["sgd_momentum"] == ("sgd", {"momentum": 0.9})


def test_declared_sweep_expands_unless_the_command_line_sets_its_key():
    runs = apply_overrides(OPTIMIZERS, ["fit.epochs=1"])
    assert [r.compile.optimizer.name for r in runs] == ["sgd", "sgd_momentum"]
    assert all(r.fit.epochs == 1 and r.sweep == () for r in runs)
    (one,) = apply_overrides(OPTIMIZERS, ["compile.optimizer.name=adam"])
    assert one.compile.optimizer.name == "adam"


def test_sweep_folder_holds_every_run_and_a_side_by_side_summary(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="convwatch")
    sweep = run_experiment(OPTIMIZERS, results_dir=tmp_path)
    assert sweep.parent == tmp_path / "optimizers" and "-sweep-" in sweep.name
    listing = json.loads((sweep / "sweep.json").read_text())
    assert listing["overrides"] == ["compile.optimizer.name=sgd,sgd_momentum"]
    assert [(r["label"], r["status"]) for r in listing["runs"]] == [
        ("sgd", "completed"),
        ("sgd_momentum", "completed"),
    ]
    for run in listing["runs"]:  # a complete run folder per point, named in sweep.json
        folder = sweep / run["run"]
        assert read_json(folder / "config.json")["compile"]["optimizer"]["name"] == run["label"]
        metrics = read_json(folder / "metrics.json")["metrics"]
        assert 0 <= metrics["initial_test_accuracy"] <= 1  # epoch 0: before any training
        assert metrics["params"] == 28 * 28 * 8 + 8 + 8 * 10 + 10
    table = read_csv(sweep / "sweep_table.csv")
    assert [row["label"] for row in table] == ["sgd", "sgd_momentum"]
    assert {"test_accuracy", "initial_test_accuracy", "epochs_to_95%_val", "params"} <= set(
        table[0]
    )
    verdicts = (sweep / "sweep_verdicts.txt").read_text().splitlines()
    assert [v.split(":")[0] for v in verdicts] == ["sgd", "sgd_momentum"]
    assert "test accuracy" in verdicts[0] and "95% validation accuracy" in verdicts[0]
    with Image.open(sweep / "sweep_curves.png") as png:
        assert png.format == "PNG" and png.width > 300
    out = caplog.text
    assert "sweep run 2/2: sgd_momentum" in out and verdicts[1] in out


def test_every_optimiser_of_the_declared_sweep_can_be_built():
    from convwatch import load_experiment

    (entry,) = load_experiment("mnist_optimizers").sweep
    names = entry.split("=")[1].split(",")
    assert len(names) == 8
    built = [type(make_optimizer(Optimizer(name, None))).__name__ for name in names]
    assert built == ["SGD", "SGD", "RMSprop", "Adam", "Adagrad", "Adadelta", "Nadam", "AdamW"]
