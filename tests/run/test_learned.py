"""What two runs learned alike (the compare page's section): a network and a copy of it with its
filters permuted agree exactly, and the page says so; runs it cannot compare get one reason."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from convwatch.base import atomic
from convwatch.cli import main
from convwatch.report import learned as section
from convwatch.report.learned import Learned
from convwatch.report.reader import load_run
from convwatch.run.learned import learned_comparison
from tests.tiny import tiny_classifier

DATA = {"name": "mnist", "limit": 200, "test_limit": 60, "normalize": "unit", "one_hot": True}
ORDER = np.array([2, 0, 3, 1])  # the copy's filter j is the original's filter ORDER[j]


def _models(suffix: str = ""):
    """The tiny classifier, and a copy of it with its filters permuted (and its layers' names
    ending in `suffix`, as Keras names a second model built in the same process)."""
    import keras

    keras.utils.set_random_seed(5)
    model = tiny_classifier(4)  # conv 26x26x4 > pool 6x6x4 > flatten > predictions

    def renamed(layer):
        return layer.__class__.from_config({**layer.get_config(), "name": layer.name + suffix})

    copy = keras.models.clone_model(model, clone_function=renamed)
    kernel, bias = model.get_layer("conv").get_weights()
    copy.get_layer("conv" + suffix).set_weights([kernel[..., ORDER], bias[ORDER]])
    weights, dense_bias = model.get_layer("predictions").get_weights()
    permuted = weights.reshape(6, 6, 4, 10)[:, :, ORDER].reshape(-1, 10)
    copy.get_layer("predictions" + suffix).set_weights([permuted, dense_bias])
    return model, copy


def _atlas(filters, dead=()):
    rng = np.random.default_rng(len(filters))
    return {
        "images": rng.uniform(size=(len(filters), 28, 28, 1)).astype("float32"),
        "filters": np.asarray(filters),
        "receptive_field": np.array([0, 0, 3, 3]),
        "exemplars": rng.uniform(size=(len(filters), 4, 3, 3, 1)).astype("float32"),
        "dead": np.isin(filters, dead),
    }


@pytest.fixture
def runs(tmp_path, make_run):
    """Two run folders: the tiny classifier and its permuted copy, each with an atlas of conv."""
    paths = []
    for i, model in enumerate(_models()):
        path = make_run(
            tmp_path / "results",
            run_id=f"20260101-00000{i}-aaaaaa{i}",
            config={"name": "exp", "data": DATA, "seed": 3},
            artifacts={"FilterMaximization/conv_epoch002.npz": _atlas([0, 1, 2, 3], dead=[3])},
        )
        atomic.save_model(path / "model.keras", model)
        paths.append(path)
    return paths


def test_a_copy_with_permuted_filters_agrees_in_every_layer_and_its_filters_match(runs, tmp_path):
    learned = learned_comparison([load_run(p) for p in runs], tmp_path / "learned", probe=50)
    assert isinstance(learned, Learned), learned
    assert learned.probe.startswith("the first 50 test images of mnist")
    (agreement,) = learned.agreements
    assert agreement.rows == agreement.cols == ["conv", "pool", "predictions"]
    np.testing.assert_allclose(np.diag(agreement.matrix), 1.0, atol=1e-6)
    # the untrained baseline is the same architecture freshly initialised: below 1 somewhere
    assert min(learned.baseline.values()) < 0.99
    (match,) = agreement.matches
    assert match.layer == "conv"
    assert {a: b for a, b, _ in match.pairs} == dict(enumerate(np.argsort(ORDER)))
    np.testing.assert_allclose(match.correlations, 1.0, atol=1e-5)
    assert match.only_b == []
    picture = np.asarray(Image.open(match.picture))
    assert picture.ndim == 3 and picture.shape[0] > 100 and picture.shape[1] > 400
    assert Image.open(agreement.heatmap).size[0] > 200


def test_layers_named_apart_by_keras_correspond_by_place(tmp_path, make_run):
    paths = []
    for i, (model, layer) in enumerate(zip(_models("_1"), ("conv", "conv_1"), strict=True)):
        path = make_run(
            tmp_path / "results",
            run_id=f"20260101-00000{i}-aaaaaa{i}",
            config={"name": "exp", "data": DATA, "seed": 3},
            artifacts={f"FilterMaximization/{layer}_epoch002.npz": _atlas([0, 1, 2, 3])},
        )
        atomic.save_model(path / "model.keras", model)
        paths.append(path)
    learned = learned_comparison([load_run(p) for p in paths], tmp_path / "learned", probe=30)
    (agreement,) = learned.agreements
    assert agreement.cols == ["conv_1", "pool_1", "predictions_1"]
    assert agreement.same == {"conv": "conv_1", "pool": "pool_1", "predictions": "predictions_1"}
    np.testing.assert_allclose(np.diag(agreement.matrix), 1.0, atol=1e-6)
    (match,) = agreement.matches
    assert {a: b for a, b, _ in match.pairs} == dict(enumerate(np.argsort(ORDER)))
    assert match.picture is not None  # the other run's atlas found under its own layer name
    rows = section._same_layer_rows(agreement, learned.baseline)
    assert [r["layer"] for r in rows] == [
        "conv ~ conv_1",
        "pool ~ pool_1",
        "predictions ~ predictions_1",
    ]


def test_the_compare_page_shows_the_section_with_its_pictures(runs, tmp_path):
    out = tmp_path / "page"
    assert main(["compare", *map(str, runs), "--out", str(out), "--probe", "40"]) == 0
    page = (out / "compare.html").read_text()
    assert "What the networks learned" in page and "the first 40 test images of mnist" in page
    assert "4 of 4 filters matched above r 0.8; median r 1.00" in page
    pictures = re.findall(r"src='(learned/[^']+\.png)'", page)
    assert len(pictures) == 2 and all((out / p).is_file() for p in pictures)
    assert main(["compare", *map(str, runs), "--out", str(out), "--no-learned"]) == 0
    assert "What the networks learned" not in (out / "compare.html").read_text()


def test_filters_of_the_wider_layer_left_over_are_only_in_that_run(tmp_path, make_run):
    import keras

    keras.utils.set_random_seed(7)
    narrow, wide = tiny_classifier(3), tiny_classifier(5)
    kernel, bias = wide.get_layer("conv").get_weights()
    first_kernel, first_bias = narrow.get_layer("conv").get_weights()
    kernel[..., :3], bias[:3] = first_kernel, first_bias  # wide = narrow's 3 filters + 2 more
    wide.get_layer("conv").set_weights([kernel, bias])
    paths = []
    for i, (model, filters) in enumerate(((narrow, 3), (wide, 5))):
        path = make_run(
            tmp_path / "results",
            run_id=f"20260101-00000{i}-ccccc{i}",
            config={"name": "exp", "data": DATA, "seed": 3},
            artifacts={"FilterMaximization/conv_epoch002.npz": _atlas(list(range(filters)))},
        )
        atomic.save_model(path / "model.keras", model)
        paths.append(path)
    learned = learned_comparison([load_run(p) for p in paths], tmp_path / "learned", probe=30)
    (match,) = learned.agreements[0].matches
    assert sorted((a, b) for a, b, _ in match.pairs) == [(0, 0), (1, 1), (2, 2)]
    assert match.only_b == [3, 4]  # the two filters run #1 has no counterpart of
    assert match.picture is not None


def test_a_probe_too_small_is_refused_before_anything_is_read(runs, tmp_path, capsys):
    assert main(["compare", *map(str, runs), "--out", str(tmp_path / "p"), "--probe", "2"]) == 2
    err = capsys.readouterr()
    assert "--probe must be at least 4 images. Received: 2" in err.err and err.out == ""
    assert not (tmp_path / "p").exists()


def test_runs_that_cannot_be_compared_get_one_reason(runs, tmp_path, make_run, capsys):
    first = load_run(runs[0])
    assert learned_comparison([first], tmp_path) == "it needs at least two runs"
    unfinished = make_run(tmp_path, run_id="20260101-000009-bbbbbbb", omit=("model.keras",))
    why = learned_comparison([first, load_run(unfinished)], tmp_path)
    assert why.startswith("no model.keras in #2 20260101-000009-bbbbbbb")
    stand_in = make_run(tmp_path, run_id="20260101-000008-ccccccc")  # model.keras is text
    assert "run #2's model could not be loaded" in learned_comparison(
        [first, load_run(stand_in)], tmp_path
    )
    out = tmp_path / "page"
    assert main(["compare", str(runs[0]), str(unfinished), "--out", str(out)]) == 0
    assert "Not compared: no model.keras in #2" in (out / "compare.html").read_text()
    assert "what the networks learned is not compared" in capsys.readouterr().err


def test_a_saved_section_reads_back_the_same_and_a_damaged_one_says_so(runs, tmp_path):
    folder = tmp_path / "sweep"
    learned = learned_comparison([load_run(p) for p in runs], folder, 20, section.PREFIX)
    section.save(learned, folder)
    again = section.read(folder)
    assert again == learned  # pictures are found again in the folder
    (folder / section.FILE).write_text('{"probe": 1, "agreements": [{"index": "x"}]}')
    assert section.read(folder).startswith("learned.json could not be read (KeyError")
    section.save("no model.keras in #2", folder)
    assert section.read(folder) == "no model.keras in #2"
    assert section.read(tmp_path / "nowhere") is None
