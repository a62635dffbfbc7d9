"""StyleTransfer writes content, style and result side by side and says which network it used."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.callbacks import StyleTransfer
from convwatch.techniques.backbones import random_multiscale_net
from tests.callbacks.conftest import sequential, train_end


def _pictures(channels=1):
    rng = np.random.default_rng(1)
    content = rng.uniform(0, 1, (16, 16, channels)).astype(np.float32)
    style = rng.uniform(0, 1, (20, 24, channels)).astype(np.float32)
    return content, style


def test_writes_the_three_pictures_and_the_losses(tmp_path):
    content, style = _pictures()
    callback = StyleTransfer(content, style, out_dir=tmp_path, steps=10)
    train_end(callback, sequential())
    assert {p.name for p in tmp_path.iterdir()} == {
        "style_transfer_epoch000.png",
        "loss_epoch000.png",
        "style_transfer_epoch000.npz",
    }
    with np.load(tmp_path / "style_transfer_epoch000.npz", allow_pickle=False) as saved:
        assert saved["result"].shape == saved["content"].shape == (16, 16, 1)
        assert saved["style"].shape == (20, 24, 1)
        assert saved["loss_total"].shape == (10,)
        assert saved["loss_total"][-1] < saved["loss_total"][0]
    (note,) = callback.run_notes()
    assert "this run's own model" in note and "content layer conv" in note


def test_the_random_multiscale_net_is_named_as_the_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    content, style = _pictures(3)
    callback = StyleTransfer(content, style, out_dir=tmp_path / "st", network="auto", steps=3)
    train_end(callback, random_multiscale_net())
    (note,) = callback.run_notes()
    assert "random-weight multi-scale" in note and "FALLBACK" in note
    assert "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5" in note


def test_arguments_are_checked(tmp_path):
    content, style = _pictures()
    with pytest.raises(ValueError, match="network must be one of"):
        StyleTransfer(content, style, out_dir=tmp_path, network="vgg19")
    with pytest.raises(ValueError, match="`init` must be 'content' or 'noise'"):
        StyleTransfer(content, style, out_dir=tmp_path, init="zeros")
    with pytest.raises(ValueError, match="content must be one"):
        StyleTransfer(np.zeros((2, 4, 4, 1)), style, out_dir=tmp_path)


@pytest.mark.measure
def test_imagenet_vgg19_from_the_cache_is_used_and_named(tmp_path, monkeypatch):
    # A stand-in weights file (random VGG19 saved as Keras ships it): the network's choice and
    # its layers are under test here, not ImageNet's pictures.
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    models = tmp_path / "home" / "models"
    models.mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    weights = models / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with h5py.File(weights, "w") as f:
        source = keras.applications.VGG19(include_top=False, weights=None)
        legacy_h5_format.save_weights_to_hdf5_group(f, source)
    content, style = _pictures(3)
    callback = StyleTransfer(content, style, out_dir=tmp_path / "st", network="auto", steps=2)
    train_end(callback, random_multiscale_net())
    (note,) = callback.run_notes()
    assert note.startswith(f"Style transfer network: VGG19 with ImageNet weights ({weights})")
    assert "FALLBACK" not in note and "content layer block5_conv2" in note
    assert (tmp_path / "st" / "style_transfer_epoch000.png").is_file()
