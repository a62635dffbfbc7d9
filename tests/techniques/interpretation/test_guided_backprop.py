"""guided_backprop: equals the gated gradient worked out by hand, for each way to write a ReLU."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from convwatch.techniques import guided_backprop, saliency_map

X = np.array([1.0, 2.0, -1.0, 0.5], np.float32)  # one 2x2x1 image, flattened
W1 = np.array([[1.0, 0.5, 1.0], [0.5, 1.0, -1.0], [-1.0, 0.5, 1.0], [2.0, -1.0, 0.0]], np.float32)
W2 = np.array([[2.0, 0.0], [-1.0, 0.0], [3.0, 0.0]], np.float32)  # class 0 reads h . W2[:, 0]


def _model(relu: str):
    hidden = [layers.Dense(3, activation="relu" if relu == "activation" else None, name="h")]
    if relu == "layer":
        hidden.append(layers.ReLU(name="relu"))
    elif relu == "activation_layer":
        hidden.append(layers.Activation("relu", name="relu"))
    model = keras.Sequential(
        [keras.Input((2, 2, 1)), layers.Flatten(), *hidden, layers.Dense(2, name="out")]
    )
    model.get_layer("h").set_weights([W1, np.zeros(3, np.float32)])
    model.get_layer("out").set_weights([W2, np.zeros(2, np.float32)])
    return model


@pytest.mark.parametrize("relu", ["activation", "layer", "activation_layer"])
def test_guided_backprop_equals_the_hand_computed_gated_gradient(relu):
    model = _model(relu)
    h = X @ W1  # [2.0, 2.0, -3.5]: units 0 and 1 fire, unit 2 does not
    upstream = W2[:, 0]  # [2, -1, 3]: the gradient arriving at the ReLU output
    plain = W1 @ ((h > 0) * upstream)  # ordinary backprop: forward gate only
    guided = W1 @ ((h > 0) * (upstream > 0) * upstream)  # = W1[:, 0] * 2: unit 0 only
    assert not np.allclose(plain, guided)  # the case tells the two rules apart
    result = guided_backprop(model, X.reshape(1, 2, 2, 1), classes=[0])
    assert result.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(result.reshape(4), guided, rtol=1e-6)
    # The swap was undone: the ordinary gradient (saliency) is the plain one again.
    np.testing.assert_allclose(
        saliency_map(model, X.reshape(1, 2, 2, 1), [0]).reshape(4), np.abs(plain), rtol=1e-6
    )
    assert model.get_layer("h").activation is (
        keras.activations.relu if relu == "activation" else keras.activations.linear
    )


def test_guided_backprop_runs_on_conv_nets(tiny_cnn, images):
    result = guided_backprop(tiny_cnn, images[0][:4])
    assert result.shape == (4, 12, 12, 1) and np.isfinite(result).all()
