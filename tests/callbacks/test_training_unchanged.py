"""The capture callbacks watch; they never change what the network learns."""

from __future__ import annotations

import numpy as np

from convwatch.callbacks import (
    ActivationCapture,
    EmbeddingProjector,
    FilterEvolution,
    FilterMaximization,
)


def test_same_seed_gives_the_same_weights_with_and_without_captures(data, tmp_path):
    import keras

    x, y = data

    def train(callbacks):
        keras.utils.set_random_seed(42)
        model = keras.Sequential(
            [
                keras.Input(shape=(12, 12, 1)),
                keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                keras.layers.Dropout(0.3),  # draws random numbers every step
                keras.layers.Flatten(),
                keras.layers.Dense(8, activation="relu", name="hidden"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=callbacks)
        return model.get_weights()

    plain = train([])
    watched = train(
        [
            ActivationCapture(x[:4], every_n_steps=2, out_dir=tmp_path / "a"),
            FilterEvolution(every_n_steps=1, probe=x[:1], out_dir=tmp_path / "f"),
            FilterMaximization(steps=3, out_dir=tmp_path / "m"),
            EmbeddingProjector(x, y, every_n_epochs=1, out_dir=tmp_path / "e"),
        ]
    )
    assert len(plain) == len(watched)
    for before, after in zip(plain, watched, strict=True):
        np.testing.assert_array_equal(before, after)
