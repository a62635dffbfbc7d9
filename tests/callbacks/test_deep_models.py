"""The captures on a deep net: one layer per stage, the most active channels, labelled murals
of readable tiles, NPZ files of what the pictures show and of a bounded size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convwatch.base.atomic import read_npz
from convwatch.callbacks import ActivationCapture, FilterMaximization
from convwatch.techniques import layer_outputs, top_exemplars
from tests.residual import FORMS, STAGES, residual_net


def _fit(model, callback, images=16):
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((images, *model.inputs[0].shape[1:]), dtype=np.float32)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(
        x, rng.integers(0, 3, images), epochs=1, batch_size=8, verbose=0, callbacks=[callback]
    )
    return x


@pytest.mark.parametrize("form", FORMS)
def test_activation_capture_shows_each_stage_and_its_most_active_maps(form, tmp_path):
    model = residual_net(form)
    probe = np.random.default_rng(1).random((4, 32, 32, 3), dtype=np.float32)
    _fit(model, ActivationCapture(probe, out_dir=tmp_path))
    assert sorted(p.name for p in tmp_path.glob("*_epoch001.png")) == sorted(
        f"{name}_epoch001.png" for name in STAGES
    )
    saved = read_npz(tmp_path / "activations_epoch001.npz")
    maps = layer_outputs(model, probe, ["stage3_out"])["stage3_out"]  # (4, 8, 8, 96)
    energy = np.mean(np.square(maps.astype(np.float64)), axis=(0, 1, 2))
    channels = saved["stage3_out_channels"]
    # the 64 channels with the largest mean square, in index order, and only those saved
    assert len(channels) == 64 and np.all(np.diff(channels) > 0)
    assert energy[channels].min() >= np.delete(energy, channels).max()
    assert saved["stage3_out"].shape == (4, 8, 8, 64) and saved["stage3_out"].dtype == np.float16
    np.testing.assert_allclose(saved["stage3_out"], maps[..., channels], rtol=2e-3, atol=1e-3)
    np.testing.assert_array_equal(saved["stage1_out_channels"], np.arange(8))
    # 64 tiles of 8x8 maps, each drawn at least 16 px, labelled: a mural someone can read
    mural = Image.open(tmp_path / "stage3_out_epoch001.png")
    assert mural.size[0] >= 8 * 16 and mural.size[1] >= 8 * 16


def test_activation_capture_npz_stays_within_its_size(tmp_path):
    model = residual_net()
    probe = np.random.default_rng(1).random((64, 32, 32, 3), dtype=np.float32)
    _fit(model, ActivationCapture(probe, out_dir=tmp_path, image_index=40, max_megabytes=1))
    path = tmp_path / "activations_epoch001.npz"
    saved = read_npz(path)
    # per image: 32*32*8 + 16*16*16 + 8*8*64 values in float16, 32 KB; 1 MB holds 32 of them
    assert len(saved["probe_index"]) == 32 and saved["probe_index"][-1] == 40
    assert saved["stage1_out"].shape == (32, 32, 32, 8)
    assert path.stat().st_size <= 2**20


def test_filter_maximization_shows_the_most_active_filters_of_each_stage(tmp_path):
    model = residual_net()
    probe = np.random.default_rng(2).random((12, 32, 32, 3), dtype=np.float32)
    callback = FilterMaximization(probe, out_dir=tmp_path, max_filters=6, steps=2, exemplars=2)
    _fit(model, callback)
    assert sorted(p.name for p in tmp_path.glob("*_epoch001.npz")) == sorted(
        f"{name}_epoch001.npz" for name in STAGES
    )
    saved = read_npz(tmp_path / "stage3_out_epoch001.npz")
    every = top_exemplars(model, "stage3_out", probe, k=1)  # all 96 filters
    expected = np.sort(np.argsort(-every.activation[:, 0], kind="stable")[:6])
    np.testing.assert_array_equal(saved["filters"], expected)
    assert saved["filter_count"] == 96 and not saved["decorrelated"]  # a 30 px field
    assert saved["images"].shape == (6, 32, 32, 3) and saved["exemplars"].shape[:2] == (6, 2)


def test_depthwise_and_squeeze_excitation_layers_are_captured(tmp_path):
    import keras

    L = keras.layers
    inputs = keras.Input((24, 24, 3))
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inputs)
    x = L.DepthwiseConv2D(3, padding="same", name="depthwise")(x)
    gate = L.GlobalAveragePooling2D(keepdims=True, name="squeeze")(x)
    gate = L.Conv2D(8, 1, activation="sigmoid", name="excite")(gate)
    x = L.Multiply(name="gated")([x, gate])
    x = L.SeparableConv2D(8, 3, strides=2, padding="same", name="separable")(x)
    x = L.Conv2D(8, 1, name="pointwise")(x)
    outputs = L.Dense(3, activation="softmax")(L.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    probe = np.random.default_rng(3).random((6, 24, 24, 3), dtype=np.float32)
    callback = FilterMaximization(
        probe, out_dir=tmp_path, layers=["depthwise", "gated", "separable"], steps=2, exemplars=2
    )
    _fit(model, callback)
    for name in ("depthwise", "gated", "separable"):
        saved = read_npz(tmp_path / f"{name}_epoch001.npz")
        assert saved["images"].shape[0] == 8
    # the gate is a 1x1 vector: the centre unit of `gated` still sees a window, not the image
    assert tuple(read_npz(tmp_path / "gated_epoch001.npz")["receptive_field"][2:]) == (5, 5)


def test_an_atlas_of_units_with_large_fields_keeps_its_tiles_as_drawn(tmp_path):
    model = residual_net(size=160)  # a last-stage unit sees a 40-60 px field
    probe = np.random.default_rng(4).random((12, 160, 160, 3), dtype=np.float32)
    callback = FilterMaximization(
        probe, out_dir=tmp_path, layers=["stage3_out"], max_filters=3, steps=2, exemplars=9
    )
    _fit(model, callback, images=8)
    saved = read_npz(tmp_path / "stage3_out_epoch001.npz")
    assert saved["as_shown"] and saved["images"].dtype == np.uint8
    # nine patches a tile, 36 px each at most, as the atlas draws them
    assert max(saved["images"].shape[1:3]) <= 96 and max(saved["exemplars"].shape[2:4]) <= 36
    assert (tmp_path / "stage3_out_epoch001.npz").stat().st_size < 200_000
