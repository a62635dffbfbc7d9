"""Shared fixtures: tiny models with fixed layer names, random data, and an offline sandbox."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CONVWATCH_OFFLINE"] = "1"  # no test ever downloads

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _sandbox(tmp_path_factory, monkeypatch):
    """An empty Keras cache per test, so nothing depends on what this machine has downloaded."""
    home = tmp_path_factory.mktemp("keras_home")
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv("CONVWATCH_OFFLINE", "1")


@pytest.fixture
def tiny_cnn():
    """A 3-layer conv net on 12x12x1 inputs: conv (4 filters) > pool > dense (3 classes)."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape=(12, 12, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, activation="softmax", name="predictions"),
        ],
        name="tiny_cnn",
    )


@pytest.fixture
def images():
    """16 random 12x12x1 float images in [0, 1] and their labels 0..2."""
    rng = np.random.default_rng(0)
    return rng.random((16, 12, 12, 1), dtype=np.float32), rng.integers(0, 3, 16)


@pytest.fixture
def make_run():
    """Builds a run folder by hand (no training): `make_run(root, ...)` -> its path.

    Files come from the arguments; `omit` leaves files out, to stand for failed, interrupted
    or old runs. `artifacts` maps `Callback/name.png|gif|npz|csv` to an array (PNG, GIF frames)
    or text; images are real files written by `convwatch.results`.
    """
    from convwatch import results

    def build(
        root,
        experiment="exp",
        run_id="20260101-000000-aaaaaaa",
        status="completed",
        config=None,
        history=None,
        metrics=None,
        artifacts=None,
        omit=(),
        **record,
    ):
        path = root / experiment / run_id
        path.mkdir(parents=True)
        files = {
            "run.json": {
                "name": experiment,
                "status": status,
                "error": None,
                "started": "2026-01-01T00:00:00+0000",
                "duration_s": 12.5,
                "seed": 1,
                **record,
            },
            "config.json": config or {"name": experiment, "fit": {"epochs": 2}},
            "metrics.json": {"metrics": metrics or {"test_accuracy": 0.9}, "references": []},
        }
        for name, value in files.items():
            if name not in omit:
                results.write_json(path / name, value)
        rows = history or [{"epoch": 1, "loss": 1.0, "val_loss": 1.1}]
        if "history.csv" not in omit:
            results.write_csv(path / "history.csv", rows, list(rows[0]))
        for name in ("summary.txt", "model.keras"):
            if name not in omit:
                results.write_text(path / name, "stand-in\n")
        for name, value in (artifacts or {}).items():
            target = path / "artifacts" / name
            if name.endswith(".gif"):
                results.write_gif(target, value)
            elif name.endswith(".png"):
                results.write_png(target, value)
            elif name.endswith(".npz"):
                results.write_npz(target, value)
            else:
                results.write_text(target, str(value))
        return path

    return build
