"""A capture that needs TensorFlow's gradients is refused on another Keras backend at train
begin, before the first batch (and by the runner, before any run folder), naming the backend;
the others run on any backend."""

from __future__ import annotations

import keras
import pytest

from convwatch.callbacks import (
    ActivationCapture,
    DeepDream,
    EmbeddingProjector,
    FilterEvolution,
    FilterMaximization,
    Interpretation,
    StyleTransfer,
    capture,
)
from convwatch.errors import ConvwatchError
from convwatch.run.captures import check_callbacks


@pytest.fixture
def on_jax(monkeypatch):
    """The captures see the JAX backend (Keras itself keeps running on TensorFlow)."""
    monkeypatch.setattr(capture, "keras_backend", lambda: "jax")


class Batches(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.count = 0

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1


def test_filter_maximization_is_refused_before_the_first_batch(on_jax, seq, data, tmp_path):
    x, y = data
    batches = Batches()
    with pytest.raises(RuntimeError) as caught:
        seq.fit(x, y, epochs=1, verbose=0, callbacks=[batches, FilterMaximization(x[:4])])
    message = str(caught.value)
    assert "FilterMaximization runs on the tensorflow Keras backend only" in message
    assert "'jax'" in message and "KERAS_BACKEND=tensorflow" in message
    assert batches.count == 0


@pytest.mark.parametrize("cls", [FilterMaximization, Interpretation, DeepDream, StyleTransfer])
def test_the_gradient_captures_name_tensorflow(cls, on_jax):
    assert cls.backends == frozenset({"tensorflow"})
    with pytest.raises(RuntimeError, match=f"{cls.__name__} runs on the tensorflow"):
        cls.check_backend()


@pytest.mark.parametrize("cls", [ActivationCapture, FilterEvolution, EmbeddingProjector])
def test_the_forward_pass_captures_run_on_any_backend(cls, on_jax):
    assert cls.backends is None
    cls.check_backend()  # no error


def test_the_runner_refuses_before_any_folder(on_jax):
    with pytest.raises(ConvwatchError, match=r"callbacks\.FilterMaximization: .*'jax'"):
        check_callbacks({"ActivationCapture": {}, "FilterMaximization": {}})
    check_callbacks({"ActivationCapture": {}, "EmbeddingProjector": {}})


def test_on_tensorflow_nothing_is_refused():
    assert capture.keras_backend() == "tensorflow"
    FilterMaximization.check_backend()
