"""EpochCheckpoint: the model and optimizer saved at an epoch's end, for `--resume`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from convwatch.base import atomic


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the model (with its optimizer state) atomically at the end of an epoch.

    The first epoch is always saved; later ones when `every_s` seconds have passed since the last
    save, so runs of many tiny epochs do not spend their time saving.

    Args:
        filepath: where the `.keras` file goes.
        every_s: least seconds between two saves; 0 saves every epoch. Defaults to 10.
        on_save: optional function called with the number of epochs the saved file holds.

    Example:
        >>> model.fit(x, y, callbacks=[EpochCheckpoint("run/checkpoint.keras")])  # doctest: +SKIP
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        every_s: float = 10.0,
        on_save: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        if every_s < 0:
            raise ValueError(f"`every_s` must be 0 or more. Received: every_s={every_s}")
        self.filepath = Path(filepath)
        self.every_s = every_s
        self.on_save = on_save
        self._last: float | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._last = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.every_s:
            return
        atomic.save_model(self.filepath, self.model)
        self._last = now
        if self.on_save is not None:
            self.on_save(epoch + 1)
