"""The 30/15 MNIST net trained briefly on the tests' generated digits, shared by the tests of
filter pictures and exemplars (trained once per session, ~3 s)."""

from __future__ import annotations

import functools

import numpy as np

from tests.datasets import make_split

DEAD = {"conv1": 29, "conv2": 14}  # filters switched off by hand: a bias no image overcomes


@functools.cache
def trained_digits_net():
    """`(model, probe)`: `larger_cnn` after 3 epochs of Adam on 1,200 generated digits (seed 0),
    with the filters in DEAD given a bias of -100; the probe set is those 1,200 images."""
    import keras

    from convwatch.models import larger_cnn

    x, y = make_split("digits", 1200, 20)
    x = x[..., None].astype(np.float32) / 255
    keras.utils.set_random_seed(0)
    model = larger_cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    for name, f in DEAD.items():
        kernel, bias = model.get_layer(name).get_weights()
        bias[f] = -100.0
        model.get_layer(name).set_weights([kernel, bias])
    return model, x
