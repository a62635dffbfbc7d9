"""Captures describe themselves: the registry, the page captions, the run-level hooks, and how
the runner builds and checks one (`from_run`, `check_options`) from a hand-made RunInputs."""

from __future__ import annotations

import gc
import inspect
import json
import re

import numpy as np
import pytest

from convwatch.base.ranges import Photo
from convwatch.callbacks import (
    ActivationCapture,
    Capture,
    DeepDream,
    EmbeddingProjector,
    PixelTracker,
    RunInputs,
    StyleTransfer,
    WeightRange,
    descriptions,
    registered,
)

EXPERIMENT_CAPTURES = {
    "ActivationCapture",
    "ClassificationReport",
    "DeepDream",
    "EmbeddingProjector",
    "FilterEvolution",
    "FilterMaximization",
    "Interpretation",
    "LayerShapes",
    "OutputEvolution",
    "PartialOutputs",
    "PixelTracker",
    "StyleTransfer",
    "WeightRange",
}
TAG = r"(?P<tag>epoch\d+|step\d+)"  # what "{tag}" stands for in a caption's pattern


def inputs(tmp_path, **changes):
    rng = np.random.default_rng(0)
    base = dict(
        out_dir=tmp_path / "Capture",
        x_train=rng.random((20, 12, 12, 1), dtype=np.float32),
        x_test=rng.random((10, 12, 12, 1), dtype=np.float32),
        labels_test=np.arange(10) % 3,
        class_names=["a", "b", "c"],
        dataset="toy",
    )
    return RunInputs(**(base | changes))


def test_a_capture_with_a_group_is_registered_and_one_without_is_not():
    class ToyCapture(Capture):
        group = "A toy's pictures."
        captions = ((r"toy_{tag}\.png", "The toy, {tag}."),)

    class ToyBase(Capture):  # no group: a base class or a test double
        pass

    class ToyChild(ToyCapture):  # inherits a group but declares none of its own
        pass

    assert registered()["ToyCapture"] is ToyCapture
    assert descriptions()["ToyCapture"] == {
        "group": "A toy's pictures.",
        "files": [[r"toy_{tag}\.png", "The toy, {tag}."]],
    }
    assert not {"ToyBase", "ToyChild", "Capture", "TrainEndCapture"} & set(registered())
    del ToyCapture, ToyBase, ToyChild
    gc.collect()  # the toys leave the registry with their classes
    assert "ToyCapture" not in registered()


def test_every_experiment_capture_describes_itself_for_json_and_the_page():
    found = descriptions()
    assert set(found) >= EXPERIMENT_CAPTURES
    assert json.loads(json.dumps(found)) == found  # JSON-ready, as run.json holds it
    for name in EXPERIMENT_CAPTURES:
        assert isinstance(found[name]["group"], str) and found[name]["group"].endswith(".")
        for pattern, caption in found[name]["files"]:
            re.compile(pattern.replace("{tag}", TAG))
            assert caption.endswith(".")
    # A file name finds its caption as the report matches it: the whole path, {tag} filled.
    matches = [
        (match, caption)
        for pattern, caption in ActivationCapture.captions
        if (match := re.fullmatch(pattern.replace("{tag}", TAG), "conv_epoch003.png"))
    ]
    assert len(matches) == 1
    match, caption = matches[0]
    assert match.groupdict() == {"layer": "conv", "tag": "epoch003"}
    assert caption.format(layer="conv", tag="after epoch 3") == (
        "conv: one probe image's feature maps, after epoch 3."
    )


@pytest.mark.parametrize("name", sorted(EXPERIMENT_CAPTURES))
def test_supplied_parameters_and_run_options_are_the_constructors_or_the_runners(name):
    cls = registered()[name]
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert "out_dir" in cls.supplied and cls.supplied <= params | set(cls.run_options)
    # A run option is the runner's, not an argument an experiment could also give directly.
    assert not (set(cls.run_options) & (params - cls.supplied))


def test_hooks_and_checks_default_to_nothing(tmp_path):
    class Plain(Capture):
        pass

    capture = Plain(out_dir=tmp_path)
    assert capture.final_metrics() == {} and capture.run_notes() == []
    assert capture.run_summary() is None
    assert Plain.check_options({"anything": 1}) is None
    assert Plain.describe() == {"group": None, "files": []}
    assert Plain.supplied == frozenset({"out_dir"}) and dict(Plain.run_options) == {}


def test_from_run_builds_a_capture_from_the_runs_data(tmp_path):
    run = inputs(tmp_path)
    activations = ActivationCapture.from_run(run, probe_size=4, layers=["conv"])
    np.testing.assert_array_equal(activations.probe, run.x_test[:4])
    assert activations.out_dir == run.out_dir and activations.layers == ["conv"]
    assert len(ActivationCapture.from_run(run).probe) == 8  # the default probe
    embedding = EmbeddingProjector.from_run(run, size=5)
    np.testing.assert_array_equal(embedding.labels, run.labels_test[:5])
    assert embedding.class_names == ("a", "b", "c")
    weights = WeightRange.from_run(run, layers=["conv"])  # the default: out_dir only
    assert weights.out_dir == run.out_dir and weights.layers == ["conv"]


@pytest.mark.parametrize(
    "name, size, wanted", [("ClassificationReport", None, 10), ("Interpretation", 4, 4)]
)
def test_classifier_captures_take_the_first_test_images_with_their_labels(
    tmp_path, name, size, wanted
):
    run = inputs(tmp_path)
    capture = registered()[name].from_run(run, size=size)
    assert capture.out_dir == run.out_dir
    assert len(capture.labels) == wanted and list(capture.labels) == list(run.labels_test[:wanted])
    assert list(capture.class_names) == ["a", "b", "c"]


def test_a_classifier_capture_without_labels_says_so(tmp_path):
    with pytest.raises(ValueError, match="EmbeddingProjector needs class labels.*'toy'"):
        EmbeddingProjector.from_run(inputs(tmp_path, labels_test=None))


def test_pixel_tracker_circles_come_from_the_landmarks(tmp_path):
    run = inputs(tmp_path, dataset="shapes", landmarks={"red": (3, 4), "blue": (8, 2)})
    tracker = PixelTracker.from_run(run, circles=["blue"], pixels={"corner": (0, 0)})
    assert tracker.pixels == {"corner": (0, 0), "blue_centre": (8, 2)}
    with pytest.raises(ValueError, match=r"'shapes' data has no circle 'green'.*red, blue"):
        PixelTracker.from_run(run, circles=["green"])
    with pytest.raises(ValueError, match=r"'toy' data has no circle 'red'; its landmarks: none"):
        PixelTracker.from_run(inputs(tmp_path), circles=["red"])


def test_photos_are_loaded_through_the_run_inputs(tmp_path):
    asked = []

    def photo(name, size):
        asked.append((name, size))
        return np.full((size or 20, size or 20, 3), 0.5, np.float32)

    run = inputs(tmp_path, x_test=np.zeros((2, 24, 16, 3), np.float32), photo=photo)
    dream = DeepDream.from_run(run, photo="flower", size=32, steps=2)
    assert dream.images.shape == (1, 32, 32, 3) and dream.settings.steps == 2
    style = StyleTransfer.from_run(run)
    assert style.content.shape == (24, 16, 3) and style.style.shape == (24, 24, 3)
    assert asked == [("flower", 32), ("flower", 24)]  # style: as large as the content
    assert DeepDream.run_options["photo"] is Photo and StyleTransfer.run_options["style"] is Photo


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"octaves": 0}, "`octaves` must be an integer >= 1. Received: octaves=0"),
        ({"octaves": 2, "octave_scale": 1.0}, "`octave_scale` must be > 1 when octaves > 1"),
        ({"step_size": -1.0}, "`step_size` must be > 0. Received: step_size=-1.0"),
        ({"network": "vgg"}, "network must be one of model, imagenet, auto"),
    ],
)
def test_deep_dream_refuses_bad_settings_before_any_folder(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        DeepDream.check_options({"layers": ["conv"], **options})


def test_good_settings_pass_and_style_transfer_checks_its_own():
    DeepDream.check_options({"octaves": 1, "octave_scale": 1.0, "photo": "china", "size": 64})
    StyleTransfer.check_options({"steps": 5, "init": "noise", "style": "flower"})
    with pytest.raises(ValueError, match="`init` must be 'content' or 'noise'"):
        StyleTransfer.check_options({"init": "zeros"})
    with pytest.raises(ValueError, match="Weights must be >= 0"):
        StyleTransfer.check_options({"tv_weight": -1.0})
