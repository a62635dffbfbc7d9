"""Interpretation writes one labelled figure per technique and an NPZ of every map, at train end;
the labels are the model's own predictions, checked on a hand-set model whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import binary_dilation

from convwatch.base import atomic
from convwatch.callbacks import Interpretation
from tests.callbacks.conftest import train_end
from tests.evidence import REGION, evidence_model, region_mask, sigmoid

ALL = ("saliency", "smoothgrad", "occlusion", "grad_cam", "guided_backprop")


def test_writes_a_png_per_technique_and_the_maps(any_model, data, tmp_path):
    kind, model = any_model
    x, y = data
    callback = Interpretation(x[:3], y[:3], class_names=["a", "b", "c"], out_dir=tmp_path)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    for technique in ("saliency", "occlusion", "grad_cam", "guided_backprop"):
        with Image.open(tmp_path / f"{technique}_epoch001.png") as picture:
            picture.load()  # a whole, readable PNG
            assert picture.height > 3 * 150  # three rows of pictures at >= 112 px
    with np.load(tmp_path / "interpretation_epoch001.npz", allow_pickle=False) as saved:
        assert saved["saliency"].shape == saved["occlusion"].shape == (3, 12, 12)
        assert saved["occlusion_background"].shape == (3, 12, 12)
        assert saved["guided_backprop"].shape == (3, 12, 12, 1)
        assert list(saved["labels"]) == list(y[:3]) and saved["predicted"].shape == (3,)
        assert saved["probabilities"].shape == (3, 3)
        assert list(saved["class_names"]) == ["a", "b", "c"]


def _images() -> tuple[np.ndarray, np.ndarray]:
    """Three images and labels with known outputs of `evidence_model` (see the asserts)."""
    x = np.zeros((3, 8, 8, 1), np.float32)
    x[0][REGION] = 0.5  # the object: class 0's logit 6
    x[1:, 4:7, 1:7] = 1.0  # 18 lit background pixels: class 1's logit 1.8
    return x, np.array([0, 0, 1])


def test_rows_name_the_models_own_predictions_and_an_empty_map_says_so(tmp_path, monkeypatch):
    figures: dict[str, list[list[str]]] = {}
    write = atomic.write_figure

    def keep_texts(path, figure, **kwargs):  # what each row's axes say, before it is closed
        figures[path.name] = [
            [ax.get_title(), *(t.get_text() for t in ax.texts)] for ax in figure.axes
        ]
        return write(path, figure, **kwargs)

    monkeypatch.setattr(atomic, "write_figure", keep_texts)
    x, y = _images()
    callback = Interpretation(x, y, ALL, class_names=["object", "lit"], out_dir=tmp_path, patch=2)
    train_end(callback, evidence_model())
    with np.load(tmp_path / "interpretation_epoch000.npz", allow_pickle=False) as saved:
        # By hand: p(object) = sigmoid(6) for image 0; sigmoid(-1.8) for images 1 and 2.
        p = [sigmoid(6), sigmoid(-1.8), sigmoid(1.8)]
        np.testing.assert_allclose(saved["p_true"], p, rtol=1e-5)
        np.testing.assert_array_equal(saved["predicted"], [0, 1, 1])
        np.testing.assert_allclose(saved["p_predicted"], [p[0], p[2], p[2]], rtol=1e-5)
        np.testing.assert_allclose(saved["occlusion_fills"], [0.5, 0.0])  # mid-grey, background
        background, grad_cam = saved["occlusion_background"], saved["grad_cam"]
    # Each row's image is titled with the true class, the prediction and both probabilities.
    titles = [axes[0] for axes in figures["occlusion_epoch000.png"][::5]]  # image, 2 x (map, bar)
    assert titles == [
        "true: object, p 1.00\npredicted: object, p 1.00",
        "true: object, p 0.14\npredicted: lit, p 0.86",
        "true: lit, p 0.86\npredicted: lit, p 0.86",
    ]
    # Class 1's evidence weight is the mean of -0.1 over 60 pixels and +0 over REGION: negative,
    # so Grad-CAM has no positive evidence for it (image 2), and the row says so, map and overlay.
    assert not grad_cam[2].any() and grad_cam[0].max() == pytest.approx(1.0)
    notes = [
        "no positive evidence\nfor this class" in axes for axes in figures["grad_cam_epoch000.png"]
    ]
    assert [i // 4 for i, note in enumerate(notes) if note] == [2, 2]  # 4 axes a row
    # Hiding the object with the background value lowers p(object); on background, no change.
    near = binary_dilation(region_mask(), structure=np.ones((3, 3)))
    assert np.all(background[0][region_mask()] > 0) and np.all(background[0][~near] == 0)
    for name in figures:
        with Image.open(tmp_path / name) as picture:
            picture.load()


def test_periodic_captures_without_a_duplicate_at_the_end(seq, data, tmp_path):
    x, y = data
    callback = Interpretation(x[:2], y[:2], ("saliency",), every_n_epochs=1, out_dir=tmp_path)
    seq.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "saliency_epoch001.png",
        "saliency_epoch002.png",
    ]


def test_arguments_are_checked_before_any_file(tmp_path):
    images = np.zeros((2, 12, 12, 1), np.float32)
    with pytest.raises(ValueError, match="techniques must be among"):
        Interpretation(images, [0, 1], ("lime",), out_dir=tmp_path / "x")
    with pytest.raises(ValueError, match="one label each"):
        Interpretation(images, [0], out_dir=tmp_path / "x")
    with pytest.raises(ValueError, match="background_fill"):
        Interpretation(images, [0, 1], background_fill=float("nan"), out_dir=tmp_path / "x")
    assert not (tmp_path / "x").exists()
