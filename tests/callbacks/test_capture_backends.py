"""Every capture runs on every Keras backend (`make test` runs the capture tests on JAX and
PyTorch too). A capture that declares `backends` (one of a user's, say) is refused on another
backend at train begin, before the first batch, and by the runner before any run folder, naming
the backend and what to set."""

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

ALL = [
    ActivationCapture,
    FilterEvolution,
    EmbeddingProjector,
    FilterMaximization,
    Interpretation,
    DeepDream,
    StyleTransfer,
]


@pytest.fixture
def on_jax(monkeypatch):
    """The captures see the JAX backend (Keras itself keeps running as it is)."""
    monkeypatch.setattr(capture, "keras_backend", lambda: "jax")


class TensorFlowOnly(ActivationCapture):
    backends = frozenset({"tensorflow"})


class Batches(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.count = 0

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1


def test_a_capture_for_one_backend_is_refused_before_the_first_batch(on_jax, seq, data, tmp_path):
    x, y = data
    batches = Batches()
    only = TensorFlowOnly(x[:2], out_dir=tmp_path / "only")
    with pytest.raises(RuntimeError) as caught:
        seq.fit(x, y, epochs=1, verbose=0, callbacks=[batches, only])
    message = str(caught.value)
    assert "TensorFlowOnly runs on the tensorflow Keras backend only" in message
    assert "'jax'" in message and "KERAS_BACKEND=tensorflow" in message
    assert batches.count == 0


@pytest.mark.parametrize("cls", ALL)
def test_every_capture_runs_on_any_backend(cls, on_jax):
    assert cls.backends is None
    cls.check_backend()  # no error


def test_the_runner_refuses_before_any_folder(on_jax, monkeypatch):
    check_callbacks({name.__name__: {} for name in ALL})
    monkeypatch.setattr(StyleTransfer, "backends", frozenset({"tensorflow"}))
    with pytest.raises(ConvwatchError, match=r"callbacks\.StyleTransfer: .*'jax'"):
        check_callbacks({"ActivationCapture": {}, "StyleTransfer": {}})


def test_the_backend_is_the_running_one():
    assert capture.keras_backend() == keras.backend.backend()
