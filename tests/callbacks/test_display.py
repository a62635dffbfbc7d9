"""`live(...)`: one notebook output, updated as the captures write; outside a notebook kernel,
nothing displayed and nothing raised."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.callbacks import ActivationCapture, FilterEvolution, LiveDisplay, live
from convwatch.callbacks import display as display_module

X = np.random.default_rng(0).normal(size=(8, 8, 8, 1)).astype("float32")


class FakeHandle:
    def __init__(self, shown):
        self.shown = [shown._repr_html_()]

    def update(self, shown):
        self.shown.append(shown._repr_html_())


def _fit(callbacks, epochs=2):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="conv"), keras.layers.Flatten(),
         keras.layers.Dense(2)]
    )  # fmt: skip
    model.compile("sgd", "mse")
    model.fit(X, np.zeros((8, 2)), epochs=epochs, batch_size=4, verbose=0, callbacks=callbacks)


def test_live_updates_one_output_as_the_captures_write(tmp_path, monkeypatch):
    handles = []

    def fake_display(shown, display_id):
        assert display_id is True
        handles.append(FakeHandle(shown))
        return handles[-1]

    monkeypatch.setattr(display_module, "_kernel_display", lambda: fake_display)
    # Drawn on the training thread, so that each epoch's files exist when the display looks.
    monkeypatch.setenv("CONVWATCH_BACKGROUND", "0")
    maps = ActivationCapture(X[:1], out_dir=tmp_path / "maps")
    kernels = FilterEvolution(out_dir=tmp_path / "kernels")  # writes its files at the end
    callbacks = live(maps, kernels, every_seconds=0.001)
    assert isinstance(callbacks[-1], LiveDisplay) and len(callbacks) == 3
    _fit(callbacks, epochs=3)
    (handle,) = handles  # displayed once, then updated in place
    assert callbacks[-1].updates == len(handle.shown) >= 3  # first draw, the epochs, the end
    assert "feature maps, after epoch 1" in "".join(handle.shown[1:-1])  # while training ran
    assert "data:image/gif" not in handle.shown[0] and "data:image/gif" in handle.shown[-1]


def test_outside_a_notebook_live_displays_nothing_and_the_fit_runs(tmp_path):
    callbacks = live(FilterEvolution(out_dir=tmp_path / "kernels"))
    _fit(callbacks, epochs=1)
    assert callbacks[-1].updates == 0 and (tmp_path / "kernels" / "conv_filters.gif").is_file()


def test_live_needs_a_capture_and_a_positive_interval():
    with pytest.raises(ValueError, match="at least one capture"):
        live()
    with pytest.raises(ValueError, match="every_seconds must be > 0"):
        live(FilterEvolution(out_dir="x"), every_seconds=0)
