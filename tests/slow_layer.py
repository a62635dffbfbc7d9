"""Source text of a Keras layer that sleeps on every batch, for experiment modules written by
tests that must stop a real run mid-epoch (by a signal, by SIGKILL)."""

from __future__ import annotations

import textwrap


def slow_layer_source(seconds: float) -> str:
    """Python source defining `Slow`, an identity layer that sleeps `seconds` per batch; the
    module using it imports `keras` and `tensorflow as tf` after it."""
    return textwrap.dedent(
        f"""
        import time

        import keras
        import tensorflow as tf


        class Slow(keras.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.supports_jit = False  # py_function cannot be XLA-compiled

            def call(self, x):
                y = tf.py_function(lambda t: (time.sleep({seconds}), t)[1], [x], x.dtype)
                y.set_shape(x.shape)
                return y
        """
    )
