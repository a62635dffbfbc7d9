"""FilterMaximization writes a grid of optimised inputs per capture, and a GIF of them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convwatch.callbacks import FilterMaximization
from convwatch.results import read_npz


def test_every_conv_layer_gets_grids_and_a_gif(any_model, data, tmp_path):
    kind, model = any_model
    x, y = data
    callback = FilterMaximization(out_dir=tmp_path, steps=5)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[callback])
    gifs = sorted(p.name for p in tmp_path.glob("*.gif"))
    expected = {"two_branches": ["conv.gif", "conv_wide.gif"]}.get(kind, ["conv.gif"])
    assert [g.split("__")[-1] for g in gifs] == expected
    for gif in gifs:
        stem = gif[:-4]
        with Image.open(tmp_path / gif) as image:
            assert image.n_frames == 3  # untrained, epoch 1, epoch 2
        saved = read_npz(tmp_path / f"{stem}_epoch002.npz")
        images = saved["images"]
        assert images.shape[1:] == (12, 12, 1) and len(images) == len(saved["filters"])
        assert images.min() >= 0.0 and images.max() <= 1.0
        assert Image.open(tmp_path / f"{stem}_epoch002.png").size[0] >= 200


def test_chosen_filters_and_a_dense_layer(seq, data, tmp_path):
    x, y = data
    callback = FilterMaximization(
        layers=["conv", "hidden"], filters=[0, 2], every_n_epochs=0, steps=3, out_dir=tmp_path
    )
    seq.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    for stem in ("conv", "hidden"):
        saved = read_npz(tmp_path / f"{stem}_epoch000.npz")
        assert list(saved["filters"]) == [0, 2] and saved["images"].shape == (2, 12, 12, 1)
    assert not np.array_equal(
        read_npz(tmp_path / "conv_epoch000.npz")["images"],
        read_npz(tmp_path / "hidden_epoch000.npz")["images"],
    )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="steps"):
        FilterMaximization(steps=0)
