"""grad_cam: the class's evidence is where the channel it reads fires, nested models too."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from convwatch.techniques import grad_cam


def _two_region_model(nested: bool):
    """8x8x2 -> 2 classes: class k sums the 1x1 conv's channel k (an identity copy of input k)."""
    conv = layers.Conv2D(2, 1, activation="relu", name="conv")
    head = [layers.Flatten(name="flatten"), layers.Dense(2, name="logits")]
    if nested:
        inputs = keras.Input((8, 8, 2))
        block = keras.Sequential([conv], name="block")
        outputs = keras.Sequential(head, name="head")(block(inputs))
        model = keras.Model(inputs, outputs, name="nested")
    else:
        model = keras.Sequential([keras.Input((8, 8, 2)), conv, *head], name="flat")
    conv.set_weights([np.eye(2, dtype=np.float32).reshape(1, 1, 2, 2), np.zeros(2, np.float32)])
    dense = np.zeros((8, 8, 2, 2), np.float32)
    dense[..., 0, 0] = dense[..., 1, 1] = 1.0
    model.get_layer("head" if nested else "logits").set_weights(
        [dense.reshape(128, 2), np.zeros(2, np.float32)]
    )
    return model


def _image():
    image = np.zeros((1, 8, 8, 2), np.float32)
    image[0, 1:3, 1:3, 0] = 1.0  # region A, channel 0
    image[0, 5:7, 4:6, 1] = 1.0  # region B, channel 1
    return image


def test_grad_cam_finds_each_class_region_on_sequential_and_nested_models():
    for nested in (False, True):
        model = _two_region_model(nested)
        images = np.repeat(_image(), 2, axis=0)
        heat = grad_cam(model, images, classes=[0, 1])  # default layer: the last conv
        assert heat.shape == (2, 8, 8) and heat.max() <= 1.0
        # Class 0 reads channel 0, so its map peaks on region A and is 0 on B; class 1 the
        # other way round (bilinear upsampling of an 8x8 map to 8x8 changes nothing).
        np.testing.assert_allclose(heat[0], _image()[0, ..., 0], atol=1e-6)
        np.testing.assert_allclose(heat[1], _image()[0, ..., 1], atol=1e-6)


def test_grad_cam_upsamples_and_accepts_a_layer_name(tiny_cnn, images):
    heat = grad_cam(tiny_cnn, images[0][:3], layer="pool")
    assert heat.shape == (3, 12, 12) and heat.min() >= 0 and heat.max() <= 1
