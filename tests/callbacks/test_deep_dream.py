"""DeepDream writes the photo beside its dream at train end and says which network dreamed."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch import ConvwatchError
from convwatch.callbacks import DeepDream
from tests.callbacks.conftest import sequential, train_end, two_branches


@pytest.fixture
def photo():
    return np.random.default_rng(0).uniform(0.2, 0.8, (24, 32, 3)).astype(np.float32)


def test_dreams_with_the_model_attrain_end(photo, tmp_path):
    callback = DeepDream(photo, out_dir=tmp_path, octaves=2, steps=3, layers=["conv"])
    train_end(callback, sequential())
    assert {p.name for p in tmp_path.iterdir()} == {
        "dream_epoch000.png",
        "loss_epoch000.png",
        "dream_epoch000.npz",
    }
    with np.load(tmp_path / "dream_epoch000.npz", allow_pickle=False) as saved:
        # the 12x12 gray model dreams on the whole 24x32 photo, made gray
        assert saved["images"].shape == saved["dreams"].shape == (1, 24, 32, 1)
        assert saved["dreams"].min() >= 0.0 and saved["dreams"].max() <= 1.0
        assert not np.allclose(saved["dreams"], saved["images"])
        assert saved["losses"].shape == (6,) and list(saved["layers"]) == ["conv"]
    (note,) = callback.run_notes()
    assert "this run's own model" in note and "not an ImageNet network" in note


def test_auto_without_cached_imagenet_weights_is_a_named_fallback(photo, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    callback = DeepDream(photo, out_dir=tmp_path / "dream", network="auto", steps=2, octaves=1)
    train_end(callback, sequential())
    (note,) = callback.run_notes()
    assert "FALLBACK" in note and "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5" in note


def test_imagenet_without_the_weights_fails_at_once_naming_the_file(photo, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    with pytest.raises(ConvwatchError, match="inception_v3_weights"):  # before any training
        DeepDream(photo, out_dir=tmp_path / "dream", network="imagenet")


def test_arguments_are_checked(photo, tmp_path):
    with pytest.raises(ValueError, match="network must be one of model, imagenet, auto"):
        DeepDream(photo, out_dir=tmp_path, network="vgg")
    with pytest.raises(ValueError, match="`steps` must be an integer >= 1"):
        DeepDream(photo, out_dir=tmp_path, steps=0)  # at construction, before any training
    with pytest.raises(ValueError, match=r"images must be \(N, H, W, 1\|3\)"):
        DeepDream(np.zeros((4, 4)), out_dir=tmp_path)


def test_a_model_that_cannot_dream_fails_before_training(photo, tmp_path):
    import keras

    model = two_branches()  # fixed 12x12 input and two branches: no other image size
    model.compile("adam", "sparse_categorical_crossentropy")
    callback = DeepDream(photo, out_dir=tmp_path / "dream", steps=2)
    seen = []
    counter = keras.callbacks.LambdaCallback(on_epoch_end=lambda *a: seen.append(a))
    x, y = np.zeros((4, 12, 12, 1), np.float32), np.zeros(4, np.int64)
    with pytest.raises(ValueError, match="is not a chain of layers"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[callback, counter])
    assert seen == [] and not (tmp_path / "dream").exists()
