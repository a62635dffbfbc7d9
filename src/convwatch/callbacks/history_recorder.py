"""HistoryRecorder: the per-epoch logs as a CSV that is whole at every moment."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from convwatch.base import atomic, layout


class HistoryRecorder(keras.callbacks.Callback):
    """Writes one row per epoch to `<out_dir>/history.csv`, rewriting it atomically each epoch.

    Unlike `keras.callbacks.CSVLogger`, which appends to an open file, a run killed mid-write
    leaves the previous complete file, never a torn row.

    Args:
        out_dir: folder for `history.csv`; created when the first epoch ends.
        on_epoch: optional function called with the number of epochs completed.
        filename: name of the CSV file. Defaults to `"history.csv"`.

    Example:
        >>> model.fit(x, y, epochs=5, callbacks=[HistoryRecorder("runs/a")])  # doctest: +SKIP
    """

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        on_epoch: Callable[[int], None] | None = None,
        filename: str = layout.HISTORY_CSV,
    ):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.on_epoch = on_epoch
        self.filename = filename
        self.rows: list[dict[str, Any]] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.rows = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        self.rows.append(row)
        fieldnames: list[str] = []
        for r in self.rows:
            fieldnames += [k for k in r if k not in fieldnames]
        atomic.write_csv(self.out_dir / self.filename, self.rows, fieldnames)
        if self.on_epoch is not None:
            self.on_epoch(len(self.rows))

    def history(self) -> dict[str, list[float]]:
        """The rows as Keras `History.history`: metric name -> one value per epoch."""
        names = {k for row in self.rows for k in row if k != "epoch"}
        return {k: [row[k] for row in self.rows if k in row] for k in sorted(names)}
