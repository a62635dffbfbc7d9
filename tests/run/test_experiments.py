"""Every experiment in experiments/ loads, and runs end to end when shrunk to a few images."""

from __future__ import annotations

import pytest

from convwatch import list_experiments, load_experiment, run_experiment
from convwatch.base.atomic import read_json
from convwatch.run.overrides import parse_override

NAMES = list_experiments()
SWEEPS = {name: load_experiment(name).sweep for name in NAMES}


def test_the_foundation_experiments_are_listed():
    assert {"mnist_larger_cnn", "mnist_baseline_cnn"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_experiment_declares_a_description_and_a_seed(name):
    experiment = load_experiment(name)
    assert experiment.name == name
    assert experiment.description


def test_larger_cnn_matches_the_document():
    experiment = load_experiment("mnist_larger_cnn")
    assert (experiment.fit.epochs, experiment.fit.batch_size, experiment.seed) == (10, 100, 7)
    assert experiment.compile.optimizer.name == "adam"
    model = experiment.build_model(**experiment.model_options())
    assert [layer.name for layer in model.layers if "conv" in layer.name] == ["conv1", "conv2"]
    assert [model.get_layer(n).filters for n in ("conv1", "conv2")] == [30, 15]
    assert model.count_params() == 59_933
    (ref,) = experiment.references
    assert ref.format(ref.value) == "0.78%"


# Image optimisation: a few steps show the mechanics; the defaults take a minute each.
QUICK = {
    "deep_dream": ["callbacks.DeepDream.steps=2", "callbacks.DeepDream.size=48"],
    "style_transfer": ["callbacks.StyleTransfer.steps=3", "data.options.size=32"],
}


# What each image-optimisation run writes, and the network it must say it fell back to.
FALLBACKS = {
    "deep_dream": ("DeepDream/dream_epoch001.png", "inception_v3_weights"),
    "style_transfer": ("StyleTransfer/style_transfer_epoch001.png", "vgg19_weights"),
}


@pytest.mark.parametrize("name", NAMES)
def test_experiment_runs_shrunk(name, tmp_path, monkeypatch):
    # No ImageNet weights, even on a machine that has them cached: the fallbacks run.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr("convwatch.techniques.backbones.FALLBACK_CACHE_DIR", tmp_path / "keras_tmp")
    # A declared sweep (mnist_optimizers, fashion_gap) runs its first two points only.
    shrunk = [f"{key}={','.join(values[:2])}" for key, values in map(parse_override, SWEEPS[name])]
    path = run_experiment(
        name,
        ["fit.epochs=1", "data.limit=100", "data.test_limit=50", *shrunk, *QUICK.get(name, [])],
        results_dir=tmp_path,
    )
    if (path / "sweep.json").is_file():
        runs = read_json(path / "sweep.json")["runs"]
        assert len(runs) == 2 and all(r["status"] == "completed" for r in runs)
    else:
        assert read_json(path / "run.json")["status"] == "completed"
    if name == "mnist_seeds":  # its point: the seeds' networks compared on the sweep's page
        page = (path / "index.html").read_text()
        assert "What the networks learned" in page and "conv1: matched filters" in page
    if name in FALLBACKS:
        picture, weights = FALLBACKS[name]
        assert (path / "artifacts" / picture).is_file()
        (note,) = read_json(path / "run.json")["notes"]
        assert note.count("FALLBACK, not an ImageNet network") == 1 and weights in note
        assert "FALLBACK, not an ImageNet network" in (path / "index.html").read_text()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["callbacks.StyleTransfer.style=nope.jpg"], "callbacks.StyleTransfer: photo must be"),
        (["callbacks.StyleTransfer.network=resnet"], "network must be one of model, imagenet"),
        (["callbacks.StyleTransfer.network=imagenet"], "vgg19_weights_tf_dim_ordering"),
        (["callbacks.StyleTransfer.init=zeros"], "`init` must be 'content' or 'noise'"),
        (["callbacks.StyleTransfer.style_size=8"], "style_size must be None or a whole number"),
        (["callbacks.StyleTransfer.learning_rate=-1"], "learning_rate > 0"),
    ],
)
def test_a_bad_picture_or_network_fails_before_any_folder(
    overrides, message, tmp_path, monkeypatch
):
    from convwatch import ConvwatchError

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr("convwatch.techniques.backbones.FALLBACK_CACHE_DIR", tmp_path / "keras_tmp")
    with pytest.raises(ConvwatchError, match=message):
        run_experiment("style_transfer", overrides, results_dir=tmp_path / "results")
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("octaves=0", "`octaves` must be an integer >= 1"),
        ("octave_scale=0.5", "`octave_scale` must be > 1"),
        ("step_size=0", "`step_size` must be > 0"),
        ("size=4", "size must be None or a whole number >= 16"),
        ("photo=/nonexistent.png", "photo must be one of china, flower"),
    ],
)
def test_bad_dream_settings_fail_before_any_folder_or_training(override, message, tmp_path):
    from convwatch import ConvwatchError

    with pytest.raises(ConvwatchError, match=f"callbacks.DeepDream: .*{message}"):
        run_experiment("deep_dream", [f"callbacks.DeepDream.{override}"], results_dir=tmp_path)
    assert not any(tmp_path.iterdir())
