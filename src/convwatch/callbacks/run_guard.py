"""RunGuard: stops training at the next batch on a signal, or on a NaN/inf loss."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras


class LossNotFinite(FloatingPointError):
    """The training loss became NaN or infinite; the message says at which epoch and step."""


class RunGuard(keras.callbacks.Callback):
    """Checks after every batch whether the run must stop, and stops it by raising.

    Raising (rather than setting `model.stop_training`) ends `fit` at once, before a partial
    epoch is logged as if it were whole; every file written so far is already complete.

    Args:
        stop_requested: function returning an exception to raise (a signal arrived) or None.
        on_nan: `"stop"` raises `LossNotFinite` when the loss is NaN or inf; `"continue"`
            lets training go on. Defaults to `"stop"`.

    Example:
        >>> model.fit(x, y, callbacks=[RunGuard(lambda: None)])  # doctest: +SKIP
    """

    def __init__(
        self, stop_requested: Callable[[], BaseException | None], on_nan: str = "stop"
    ) -> None:
        super().__init__()
        if on_nan not in ("stop", "continue"):
            raise ValueError(f"`on_nan` must be 'stop' or 'continue'. Received: on_nan={on_nan!r}")
        self.stop_requested = stop_requested
        self.on_nan = on_nan
        self.epoch = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch + 1
        self._check()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._check()
        loss = (logs or {}).get("loss")
        if self.on_nan == "stop" and loss is not None and not math.isfinite(float(loss)):
            kind = "NaN" if math.isnan(float(loss)) else "inf"
            raise LossNotFinite(f"loss became {kind} at epoch {self.epoch} step {batch + 1}")

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._check()

    def _check(self) -> None:
        error = self.stop_requested()
        if error is not None:
            raise error
