"""FilterEvolution keeps kernel snapshots and plays them back as animated GIFs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convwatch.base.atomic import read_npz
from convwatch.callbacks import FilterEvolution
from convwatch.techniques import first_conv_layer
from convwatch.techniques.layers import get_layer


def test_snapshots_match_the_kernels_before_and_after_training(any_model, data, tmp_path):
    kind, model = any_model
    x, y = data
    if kind == "unbuilt":
        model(x[:1])  # the "before" snapshot below needs weights to exist
    name = first_conv_layer(model)
    before = np.array(get_layer(model, name).kernel)
    callback = FilterEvolution(out_dir=tmp_path, probe=x[:3])
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[callback])
    stem = name.replace("/", "__")
    saved = read_npz(tmp_path / f"{stem}_kernels.npz")
    assert saved["kernels"].shape == (4, *before.shape)
    assert list(saved["tags"]) == ["epoch000", "epoch001", "epoch002", "epoch003"]
    np.testing.assert_array_equal(saved["kernels"][0], before)
    np.testing.assert_array_equal(saved["kernels"][-1], np.array(get_layer(model, name).kernel))
    for gif in (f"{stem}_filters.gif", f"{stem}_feature_maps.gif"):
        with Image.open(tmp_path / gif) as image:
            assert image.is_animated and image.n_frames == 4
    assert Image.open(tmp_path / f"{stem}_filters.png").size[0] >= 64


def test_unbuilt_model_without_probe_is_snapshotted_from_the_start(any_model, data, tmp_path):
    kind, model = any_model
    x, y = data
    model.fit(x, y, epochs=1, verbose=0, callbacks=[FilterEvolution(out_dir=tmp_path)])
    (npz,) = tmp_path.glob("*_kernels.npz")
    assert len(read_npz(npz)["kernels"]) == 2
    assert not list(tmp_path.glob("*feature_maps.gif"))  # no probe, no feature-map GIF


def test_step_snapshots_are_thinned_to_max_frames(seq, data, tmp_path):
    x, y = data
    callback = FilterEvolution(every_n_steps=1, every_n_epochs=0, max_frames=5, out_dir=tmp_path)
    seq.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[callback])  # 24 batches
    tags = list(read_npz(tmp_path / "conv_kernels.npz")["tags"])
    assert 3 <= len(tags) <= 5
    assert tags[0] == "epoch000" and tags[-1] == "step000024"


def test_reused_instance_starts_over(seq, data, tmp_path):
    x, y = data
    callback = FilterEvolution(out_dir=tmp_path)
    seq.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    seq.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    assert len(read_npz(tmp_path / "conv_kernels.npz")["kernels"]) == 2


def test_a_layer_without_a_conv_kernel_is_refused(seq, data, tmp_path):
    x, y = data
    with pytest.raises(ValueError, match="needs Conv2D layers; 'hidden'"):
        seq.fit(
            x,
            y,
            epochs=1,
            verbose=0,
            callbacks=[FilterEvolution(layers=["hidden"], out_dir=tmp_path)],
        )


def test_background_and_inline_snapshots_are_equal(data, tmp_path, monkeypatch):
    from tests.callbacks.conftest import fit_seeded

    def run(folder):
        fit_seeded(FilterEvolution(out_dir=folder, probe=data[0][:1]), data)
        with Image.open(folder / "conv_feature_maps.gif") as gif:
            assert gif.n_frames == 3
        return read_npz(folder / "conv_kernels.npz")

    background = run(tmp_path / "background")
    monkeypatch.setenv("CONVWATCH_BACKGROUND", "0")
    inline = run(tmp_path / "inline")
    np.testing.assert_array_equal(background["kernels"], inline["kernels"])
    assert list(background["tags"]) == list(inline["tags"])
