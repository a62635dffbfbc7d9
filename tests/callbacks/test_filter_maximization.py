"""FilterMaximization writes a filter atlas (PNG) and its arrays (NPZ) per layer and capture,
and a GIF of the atlases."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PIL import Image

from convwatch.base.atomic import read_npz
from convwatch.callbacks import FilterMaximization, RunInputs, filter_maximization, model_copy

ATLAS_KEYS = {
    "images",
    "filters",
    "receptive_field",
    "targeted",
    "decorrelated",
    "filter_count",
    "dead",
    "exemplars",
    "exemplar_index",
    "exemplar_position",
    "exemplar_activation",
}


def test_every_conv_layer_gets_atlases_and_a_gif(any_model, data, tmp_path):
    kind, model = any_model
    x, y = data
    callback = FilterMaximization(x[:20], out_dir=tmp_path, steps=5, exemplars=4)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[callback])
    gifs = sorted(p.name for p in tmp_path.glob("*.gif"))
    expected = {"two_branches": ["conv.gif", "conv_wide.gif"]}.get(kind, ["conv.gif"])
    assert [g.split("__")[-1] for g in gifs] == expected
    for gif in gifs:
        stem = gif[:-4]
        with Image.open(tmp_path / gif) as image:
            assert image.n_frames == 3  # untrained, epoch 1, epoch 2
        saved = read_npz(tmp_path / f"{stem}_epoch002.npz")
        assert set(saved) == ATLAS_KEYS
        n = len(saved["filters"])
        top, left, height, width = saved["receptive_field"]
        assert saved["images"].shape == (n, 12, 12, 1) and saved["dead"].shape == (n,)
        assert saved["images"].min() >= 0.0 and saved["images"].max() <= 1.0
        assert saved["exemplars"].shape == (n, 4, height, width, 1)
        assert saved["exemplar_index"].shape == (n, 4)
        assert saved["exemplar_position"].shape == (n, 4, 2)
        activation = saved["exemplar_activation"]
        assert activation.shape == (n, 4) and np.all(np.diff(activation, axis=1) <= 0)
        np.testing.assert_array_equal(saved["dead"], activation[:, 0] <= 0)
        outside = saved["images"].copy()
        outside[:, top : top + height, left : left + width] = 0.5
        assert np.all(outside == 0.5)  # neuron objective: grey beyond the receptive field
        with Image.open(tmp_path / f"{stem}_epoch002.png") as png:
            assert png.size[0] >= 500 and png.mode == "RGB"


@pytest.mark.measure
def test_the_runners_probe_and_the_atlas_of_a_trained_net(tmp_path):
    from tests.techniques.digits_net import trained_digits_net

    model, probe = trained_digits_net()
    # What the runner hands a capture: the prepared data and its folder.
    inputs = RunInputs(tmp_path / "FilterMaximization", x_train=probe, x_test=probe[:10])
    callback = FilterMaximization.from_run(inputs, probe_size=1000)
    assert len(callback.probe) == 1000
    callback.set_model(model)
    callback.capture("epoch003", 3, 0)
    callback.wait()  # the capture is drawn and written in the background
    for layer, n, side in (("conv1", 30, 5), ("conv2", 15, 10)):
        saved = read_npz(tmp_path / "FilterMaximization" / f"{layer}_epoch003.npz")
        assert saved["exemplars"].shape == (n, 9, side, side, 1)
        assert saved["dead"].sum() == 1  # the filter switched off by hand
        png = tmp_path / "FilterMaximization" / f"{layer}_epoch003.png"
        with Image.open(png) as image:
            assert image.size[0] >= 1000  # 8 tiles a row, each ~200 px wide


def test_without_a_probe_the_pictures_only(seq, data, tmp_path):
    x, y = data
    callback = FilterMaximization(
        layers=["conv", "hidden"], filters=[0, 2], every_n_epochs=0, steps=3, out_dir=tmp_path
    )
    seq.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    for stem in ("conv", "hidden"):
        saved = read_npz(tmp_path / f"{stem}_epoch000.npz")
        # no probe set: the atlas keys less the exemplars' and dead filters'
        assert set(saved) == {k for k in ATLAS_KEYS if not k.startswith(("exemplar", "dead"))}
        assert not saved["targeted"]  # no probe set: no exemplar to reach
        assert list(saved["filters"]) == [0, 2] and saved["images"].shape == (2, 12, 12, 1)
    assert list(read_npz(tmp_path / "hidden_epoch000.npz")["receptive_field"]) == [0, 0, 12, 12]
    assert not np.array_equal(
        read_npz(tmp_path / "conv_epoch000.npz")["images"],
        read_npz(tmp_path / "hidden_epoch000.npz")["images"],
    )


def test_channel_objective_has_no_target_and_whole_pictures(seq, data, tmp_path):
    x, y = data
    callback = FilterMaximization(
        x[:10], objective="channel", every_n_epochs=0, steps=3, out_dir=tmp_path
    )
    seq.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    images = read_npz(tmp_path / "conv_epoch000.npz")["images"]
    assert np.abs(images[:, :3] - 0.5).max() > 0  # optimised everywhere, not one unit's field


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="steps"):
        FilterMaximization(steps=0)
    with pytest.raises(ValueError, match="learning_rate"):
        FilterMaximization(learning_rate=2.0)
    with pytest.raises(ValueError, match="objective"):
        FilterMaximization(objective="mean")
    with pytest.raises(ValueError, match="probe"):
        FilterMaximization(np.zeros((4, 12, 12)))


# ------------------------------------------------------------- the work off the training thread


class Scale(keras.layers.Layer):
    """A layer `clone_model` cannot rebuild (its argument does not serialise), so a model
    holding it gets no private copy: the capture then works on the live model."""

    def __init__(self, table, **kwargs):
        super().__init__(**kwargs)
        self.table = table

    def call(self, x):
        return x * self.table["factor"]


def uncopyable():
    inputs = keras.Input((12, 12, 1))
    x = Scale({"factor": np.float32(2.0)}, name="scale")(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))


def atlases(folder):
    """Every NPZ the capture wrote, by file name."""
    return {path.name: read_npz(path) for path in sorted(folder.glob("*.npz"))}


def watched_fit(make_model, data, folder, **options):
    keras.utils.set_random_seed(0)
    model = make_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = data
    callback = FilterMaximization(x[:20], out_dir=folder, steps=4, exemplars=3, **options)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[callback])
    return model, atlases(folder)


def assert_same_atlases(a, b):
    assert sorted(a) == sorted(b) and a
    for name in a:
        assert sorted(a[name]) == sorted(b[name])
        for key in a[name]:
            np.testing.assert_array_equal(a[name][key], b[name][key], err_msg=f"{name} {key}")


def test_background_copy_inline_and_live_model_give_the_same_atlases(data, tmp_path, monkeypatch):
    from tests.callbacks.conftest import sequential

    _, background = watched_fit(sequential, data, tmp_path / "background")
    monkeypatch.setenv("CONVWATCH_BACKGROUND", "0")  # every task at once, on the training thread
    _, inline = watched_fit(sequential, data, tmp_path / "inline")
    from convwatch.callbacks import model_copy as copies

    monkeypatch.setattr(copies, "private_copy", lambda model: None)  # no copy
    _, live = watched_fit(sequential, data, tmp_path / "live")
    assert len(background) == 3  # conv at epoch 0, 1, 2, all there when fit returned
    assert_same_atlases(background, inline)
    assert_same_atlases(background, live)


def test_a_model_that_cannot_be_copied_is_worked_on_in_place(data, tmp_path):
    model, found = watched_fit(uncopyable, data, tmp_path)
    assert model_copy.private_copy(model) is None
    assert sorted(found) == ["conv_epoch000.npz", "conv_epoch001.npz", "conv_epoch002.npz"]
    with Image.open(tmp_path / "conv.gif") as gif:
        assert gif.n_frames == 3


def test_the_copy_shares_nothing_with_the_live_model(seq, data, tmp_path):
    x, _ = data
    before = seq.get_weights()
    callback = FilterMaximization(x[:20], steps=3, out_dir=tmp_path)
    callback.set_model(seq)
    callback.on_train_begin()  # the untrained capture, on a copy
    callback.on_train_end()
    copy = model_copy.private_copy(seq)
    assert copy is not None and copy.model is not seq
    assert not {id(v) for v in copy.model.weights} & {id(v) for v in seq.weights}
    with copy.loaded([np.zeros_like(w) for w in before]):
        pass  # zeros into the copy ...
    for kept, now in zip(before, seq.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, now)  # ... never into the live model


def test_an_error_in_the_background_is_raised_by_fit(seq, data, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the atlas could not be drawn")

    monkeypatch.setattr(filter_maximization, "filter_atlas", broken)
    x, y = data
    callback = FilterMaximization(x[:20], steps=3, out_dir=tmp_path)
    with pytest.raises(RuntimeError, match="could not be drawn"):
        seq.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
