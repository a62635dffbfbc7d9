"""Capture's schedule with background work: finish once, after the last epoch's capture; every
file done when fit returns; an error in the background raised by fit as the capture's own."""

from __future__ import annotations

import threading

import pytest

from convwatch.callbacks import Capture, TrainEndCapture


class Recording(Capture):
    """Notes each capture and finish, and does its 'writing' in the background."""

    def __init__(self, out_dir, **kwargs):
        super().__init__(out_dir, **kwargs)
        self.events: list[str] = []
        self.written: list[str] = []

    def capture(self, tag, epoch, step):
        self.events.append(tag)
        self.later(self._write, tag)

    def _write(self, tag):
        assert threading.current_thread() is not threading.main_thread()
        (self.path(f"{tag}.txt")).write_text(tag)
        self.written.append(tag)

    def finish(self):
        self.events.append("finish")
        self.later(self.written.append, "assembled")


def test_finish_runs_once_after_the_last_epoch_and_fit_waits_for_the_files(seq, data, tmp_path):
    cb = Recording(tmp_path)
    seq.fit(*data, epochs=3, batch_size=16, verbose=0, callbacks=[cb])
    assert cb.events == ["epoch000", "epoch001", "epoch002", "epoch003", "finish"]
    assert cb.written == ["epoch000", "epoch001", "epoch002", "epoch003", "assembled"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"epoch00{i}.txt" for i in range(4)]


def test_a_run_stopped_early_finishes_at_train_end(seq, data, tmp_path):
    import keras

    class StopAfterOne(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    cb = Recording(tmp_path)
    seq.fit(*data, epochs=5, batch_size=16, verbose=0, callbacks=[StopAfterOne(), cb])
    assert cb.events == ["epoch000", "epoch001", "finish"]
    assert cb.written[-1] == "assembled"


def test_an_error_in_the_background_is_raised_by_fit(seq, data, tmp_path):
    class Broken(Recording):
        def _write(self, tag):
            raise RuntimeError(f"cannot draw {tag}")

    with pytest.raises(RuntimeError, match="cannot draw epoch000") as caught:
        seq.fit(*data, epochs=2, batch_size=16, verbose=0, callbacks=[Broken(tmp_path)])
    assert any("Broken's background work" in note for note in caught.value.__notes__)


def test_train_end_captures_capture_the_last_epoch_once(seq, data, tmp_path):
    class Heavy(TrainEndCapture):
        def __init__(self, out_dir, **kwargs):
            super().__init__(out_dir, **kwargs)
            self.tags: list[str] = []

        def capture(self, tag, epoch, step):
            self.tags.append(tag)

    cb = Heavy(tmp_path, every_n_epochs=1)
    seq.fit(*data, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
    assert cb.tags == ["epoch001", "epoch002"]
    once = Heavy(tmp_path)
    seq.fit(*data, epochs=2, batch_size=16, verbose=0, callbacks=[once])
    assert once.tags == ["epoch002"]


@pytest.fixture
def mixed_precision():
    import keras

    keras.config.set_dtype_policy("mixed_float16")
    yield
    keras.config.set_dtype_policy("float32")


def test_background_work_keeps_the_models_dtype_policy(
    mixed_precision, data, tmp_path, monkeypatch
):
    """Keras' dtype policy is per thread; the lanes' model copies must still compute in the
    model's own (float16 here), exactly as the live model and the inline path do."""
    import numpy as np

    from convwatch.base.atomic import read_npz
    from convwatch.callbacks import ActivationCapture, FilterMaximization
    from convwatch.techniques import layer_outputs
    from tests.callbacks.conftest import fit_seeded

    x = data[0]
    model = fit_seeded(ActivationCapture(x[:3], out_dir=tmp_path / "maps"), data, epochs=1)
    captured = read_npz(tmp_path / "maps" / "activations_epoch001.npz")
    for name, expected in layer_outputs(model, x[:3], compiled=True).items():
        assert captured[name].dtype == expected.dtype == np.float16
        np.testing.assert_array_equal(captured[name], expected)

    fit_seeded(FilterMaximization(x[:20], out_dir=tmp_path / "bg"), data, epochs=1)
    monkeypatch.setenv("CONVWATCH_BACKGROUND", "0")
    fit_seeded(FilterMaximization(x[:20], out_dir=tmp_path / "inline"), data, epochs=1)
    background, inline = (read_npz(tmp_path / f / "conv_epoch001.npz") for f in ("bg", "inline"))
    assert sorted(background) == sorted(inline)
    for key, value in background.items():
        np.testing.assert_array_equal(inline[key], value)
