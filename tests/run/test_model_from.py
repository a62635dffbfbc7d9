"""`model=PATH`: an experiment runs on a trained model from a run folder instead of building one."""

from __future__ import annotations

import dataclasses

import pytest

from convwatch import ConvwatchError, Data, run_experiment
from convwatch.base.atomic import read_json
from convwatch.run.overrides import apply_overrides, override_keys
from tests.run.test_runner import TINY


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return run_experiment(TINY, results_dir=tmp_path_factory.mktemp("source"))


def test_model_from_a_run_folder_is_used_as_trained(trained, tmp_path):
    path = run_experiment(TINY, [f"model={trained}"], results_dir=tmp_path)
    run = read_json(path / "run.json")
    assert run["status"] == "completed" and run["epochs_completed"] == 0
    assert run["model_from"]["file"] == str((trained / "model.keras").resolve())
    assert run["model_from"]["run"] == "tiny"
    assert read_json(path / "config.json")["fit"]["epochs"] == 0
    assert read_json(path / "config.json")["model_from"] == str(trained)
    # The same weights on the same test images: the same test accuracy, and nothing trained.
    before = read_json(trained / "metrics.json")["metrics"]
    after = read_json(path / "metrics.json")["metrics"]
    assert after["test_accuracy"] == pytest.approx(before["test_accuracy"])
    assert after["initial_test_accuracy"] == pytest.approx(before["test_accuracy"])
    assert not (path / "artifacts" / "curves").exists()  # no epochs, no empty chart


def test_fit_epochs_beside_model_trains_on_whatever_the_order(trained):
    for overrides in ([f"model={trained}", "fit.epochs=3"], ["fit.epochs=3", f"model={trained}"]):
        (variant,) = apply_overrides(TINY, overrides)
        assert variant.model_from == str(trained) and variant.fit.epochs == 3
    (variant,) = apply_overrides(TINY, ["model=none"])
    assert variant.model_from is None and variant.fit.epochs == TINY.fit.epochs
    assert "model" in override_keys(TINY)


def test_a_path_without_a_model_fails_before_any_folder(tmp_path):
    with pytest.raises(ConvwatchError, match="no trained model there"):
        run_experiment(TINY, [f"model={tmp_path / 'missing'}"], results_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_model_for_other_inputs_fails_naming_both_shapes(trained, tmp_path):
    photo = dataclasses.replace(
        TINY, data=Data(name="sample_photo", options={"size": 64}, one_hot=False)
    )
    with pytest.raises(ConvwatchError, match=r"takes inputs shaped \(28, 28, 1\)"):
        run_experiment(photo, [f"model={trained}"], results_dir=tmp_path)
    (run,) = tmp_path.glob("tiny/*/run.json")
    assert read_json(run)["status"] == "failed"
