"""ActivationCapture writes the probe's feature maps per capture, for every kind of model."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convwatch.base.atomic import read_npz
from convwatch.callbacks import ActivationCapture
from convwatch.techniques import layer_outputs


def test_captures_untrained_and_each_epoch(any_model, data, tmp_path):
    kind, model = any_model
    x, y = data
    callback = ActivationCapture(x[:4], out_dir=tmp_path / "act")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[callback])
    assert callback.captured == ["epoch000", "epoch001", "epoch002"]
    last = read_npz(tmp_path / "act" / "activations_epoch002.npz")
    expected = layer_outputs(model, x[:4])
    stems = [k.replace("/", "__") for k in expected]
    spatial = [s for s, v in zip(stems, expected.values(), strict=True) if v.ndim == 4]
    assert sorted(last) == sorted(stems + [f"{s}_channels" for s in spatial] + ["probe_index"])
    np.testing.assert_array_equal(last["probe_index"], np.arange(4))
    for name, value in expected.items():
        # the last capture is what the trained model computes for the probe, in float16
        stored = last[name.replace("/", "__")]
        assert stored.dtype == np.float16
        np.testing.assert_allclose(stored, value, rtol=2e-3, atol=1e-3)
    conv = [k for k in last if k.endswith("conv")][0]
    assert last[conv].shape == (4, 10, 10, 4)
    np.testing.assert_array_equal(last[f"{conv}_channels"], np.arange(4))
    first = read_npz(tmp_path / "act" / "activations_epoch000.npz")
    assert not np.allclose(first[conv], last[conv])  # training changed the maps
    mural = Image.open(tmp_path / "act" / f"{conv}_epoch002.png")
    assert mural.size[0] >= 100 and mural.size[1] >= 100


def test_step_schedule_and_named_layers(seq, data, tmp_path):
    x, y = data
    callback = ActivationCapture(
        x[:2], layers=["pool"], every_n_epochs=0, every_n_steps=2, out_dir=tmp_path
    )
    seq.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[callback])  # 4 batches
    assert callback.captured == ["epoch000", "step000002", "step000004"]
    assert list(read_npz(tmp_path / "activations_step000004.npz")) == [
        "pool",
        "pool_channels",
        "probe_index",
    ]
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "pool_epoch000.png",
        "pool_step000002.png",
        "pool_step000004.png",
    ]


def test_bad_arguments_are_named():
    probe = np.zeros((2, 12, 12, 1), np.float32)
    with pytest.raises(ValueError, match="image_index"):
        ActivationCapture(probe, image_index=5)
    with pytest.raises(ValueError, match="every_n_epochs"):
        ActivationCapture(probe, every_n_epochs=-1)
    with pytest.raises(ValueError, match="probe"):
        ActivationCapture(np.zeros((0, 12, 12, 1)))


def test_background_inline_and_live_model_write_the_same_files(data, tmp_path, monkeypatch):
    from tests.callbacks.conftest import fit_seeded

    def run(folder):
        fit_seeded(ActivationCapture(data[0][:3], out_dir=folder), data)
        files = sorted(p.name for p in folder.iterdir())
        return files, {n: read_npz(folder / n) for n in files if n.endswith(".npz")}

    files, background = run(tmp_path / "background")
    monkeypatch.setenv("CONVWATCH_BACKGROUND", "0")  # every task at once, on the training thread
    inline_files, inline = run(tmp_path / "inline")
    monkeypatch.delenv("CONVWATCH_BACKGROUND")
    from convwatch.callbacks import model_copy as copies

    monkeypatch.setattr(copies, "private_copy", lambda model: None)  # no copy
    live_files, live = run(tmp_path / "live")
    assert files == inline_files == live_files and len(background) == 3
    for other in (inline, live):
        for name, arrays in background.items():
            for key, value in arrays.items():
                np.testing.assert_array_equal(other[name][key], value)


def test_an_error_in_the_background_is_raised_by_fit(seq, data, tmp_path, monkeypatch):
    from convwatch.callbacks import activation_capture

    def broken(*args, **kwargs):
        raise RuntimeError("no mural today")

    monkeypatch.setattr(activation_capture, "channel_mural", broken)
    x, y = data
    with pytest.raises(RuntimeError, match="no mural today"):
        seq.fit(x, y, epochs=1, verbose=0, callbacks=[ActivationCapture(x[:2], out_dir=tmp_path)])
