"""Interpretation writes one PNG per technique and an NPZ of every map, at train end."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convwatch.callbacks import Interpretation


def test_writes_a_png_per_technique_and_the_maps(any_model, data, tmp_path):
    kind, model = any_model
    x, y = data
    callback = Interpretation(x[:3], y[:3], class_names=["a", "b", "c"], out_dir=tmp_path)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    for technique in ("saliency", "occlusion", "grad_cam", "guided_backprop"):
        width, height = Image.open(tmp_path / f"{technique}_epoch001.png").size
        assert height > width  # three rows of one image each, 2-3 columns
    with np.load(tmp_path / "interpretation_epoch001.npz", allow_pickle=False) as saved:
        assert saved["saliency"].shape == saved["occlusion"].shape == (3, 12, 12)
        assert saved["guided_backprop"].shape == (3, 12, 12, 1)
        assert list(saved["labels"]) == list(y[:3]) and saved["predicted"].shape == (3,)
        assert list(saved["class_names"]) == ["a", "b", "c"]


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
    assert not (tmp_path / "x").exists()
