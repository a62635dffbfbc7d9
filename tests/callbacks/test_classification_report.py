"""ClassificationReport: its files hold the right numbers for a hand-made set of predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from convwatch.base.atomic import read_csv
from convwatch.callbacks import ClassificationReport

NAMES = ["cat", "dog", "fox"]
# Class 0: 2 of 4 right (one taken for dog, one for fox); class 1: 3 of 3; class 2: 2 of 3 (one
# taken for cat). Confusion matrix [[2, 1, 1], [0, 3, 0], [1, 0, 2]], overall accuracy 7/10.
Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 0, 1, 2, 1, 1, 1, 0, 2, 2])


def fixed_predictions():
    """Images whose first three pixels are the probabilities a pass-through model returns."""
    import keras

    probabilities = np.eye(3)[Y_PRED] * 0.7 + 0.1  # 0.8 on the predicted class, 0.1 elsewhere
    images = np.zeros((10, 4, 4, 1), np.float32)
    images.reshape(10, -1)[:, :3] = probabilities
    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Flatten(),
            keras.layers.Lambda(lambda t: t[:, :3]),  # the "prediction" is in the image
        ]
    )
    return images, model


def test_report_numbers_on_a_hand_made_prediction_set(tmp_path):
    images, model = fixed_predictions()
    report = ClassificationReport(images, np.eye(3)[Y_TRUE], NAMES, out_dir=tmp_path, samples=6)
    report.set_model(model)
    report.on_train_begin()  # epoch 0, before training
    report.on_epoch_end(0)  # no capture: only before training and at the end by default
    report.on_train_end()  # the end: epoch 1

    per_class = read_csv(tmp_path / "per_class_epoch001.csv")
    assert [float(r["accuracy"]) for r in per_class] == pytest.approx([0.5, 1.0, 2 / 3])
    assert [(r["examples"], r["correct"], r["errors"]) for r in per_class] == [
        ("4", "2", "2"),
        ("3", "3", "0"),
        ("3", "2", "1"),
    ]
    assert [r["most_taken_for"] for r in per_class] == ["dog", "", "cat"]  # ties: lower id

    confusion = read_csv(tmp_path / "confusion_epoch001.csv")
    assert [[int(r[n]) for n in NAMES] for r in confusion] == [[2, 1, 1], [0, 3, 0], [1, 0, 2]]
    assert [r["true"] for r in confusion] == NAMES
    shares = read_csv(tmp_path / "confusion_normalized_epoch001.csv")
    assert [float(shares[0][n]) for n in NAMES] == pytest.approx([0.5, 0.25, 0.25])

    pairs = read_csv(tmp_path / "confused_pairs_epoch001.csv")
    assert [r["text"] for r in pairs] == ["fox → cat 33.3%", "cat → dog 25.0%", "cat → fox 25.0%"]

    rows = read_csv(tmp_path / "accuracy.csv")  # one row per capture, epoch 0 first
    assert [(r["epoch"], r["tag"]) for r in rows] == [("0", "epoch000"), ("1", "epoch001")]
    assert float(rows[1]["accuracy"]) == pytest.approx(0.7)
    assert float(rows[1]["fox"]) == pytest.approx(2 / 3)

    saved = json.loads((tmp_path / "report.json").read_text())["captures"]
    assert [c["accuracy"] for c in saved] == pytest.approx([0.7, 0.7])
    summary = report.run_summary()
    assert summary["accuracy_by_epoch"] == pytest.approx({"0": 0.7, "1": 0.7})
    assert summary["most_confused"][0] == "fox → cat 33.3%"

    for stem in ("per_class", "confusion", "errors_by_class", "samples", "errors", "class_scores"):
        for tag in ("epoch000", "epoch001"):
            with Image.open(tmp_path / f"{stem}_{tag}.png") as png:
                assert png.format == "PNG" and png.width > 100


def test_captures_before_training_on_schedule_and_once_at_the_end(seq, data, tmp_path):
    x, y = data
    report = ClassificationReport(
        x, y, every_n_epochs=1, out_dir=tmp_path, samples=4, errors=4, class_scores=1
    )
    seq.fit(x, y, epochs=2, verbose=0, callbacks=[report])
    assert [c["tag"] for c in report.captures] == ["epoch000", "epoch001", "epoch002"]
    assert report.class_names == ("0", "1", "2")  # no names given: the ids
    assert sorted(p.name for p in tmp_path.glob("confusion_epoch*.csv")) == [
        "confusion_epoch000.csv",
        "confusion_epoch001.csv",
        "confusion_epoch002.csv",
    ]
    seq.fit(x, y, epochs=1, verbose=0, callbacks=[report])  # reusable: state reset per fit
    assert [c["tag"] for c in report.captures] == ["epoch000", "epoch001"]


def test_flat_inputs_get_tables_but_no_image_grids(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).random((12, 5), dtype=np.float32)
    report = ClassificationReport(x, np.arange(12) % 3, NAMES, out_dir=tmp_path)
    report.set_model(model)
    report.on_train_begin()
    assert (tmp_path / "confusion_epoch000.png").is_file()
    assert not list(tmp_path.glob("samples_*.png")) and not list(tmp_path.glob("errors_e*.png"))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="same, non-zero length"):
        ClassificationReport(np.zeros((4, 2)), [0, 1])
    with pytest.raises(ValueError, match="samples"):
        ClassificationReport(np.zeros((2, 2)), [0, 1], samples=-1)
