"""Capture: the schedule and folder handling every convwatch capture callback shares.

A capture runs at train begin (the untrained network, tagged `epoch000`; for a model that is
built only by its first batch, right after that batch, tagged `step000001`), then every
`every_n_epochs` epochs and/or every `every_n_steps` batches; 0 or None turns either off.
Subclasses implement `capture(tag, epoch, step)` and, if they assemble something at the end
(a GIF), `finish()`. The output folder is created when the first file is written. Numeric
arguments declare their range in the signature (`convwatch.base.ranges`); `@validate_ranges` on each
`__init__` refuses a value outside it, and the runner checks the same declarations before any
run folder exists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import keras

from convwatch.base.ranges import NonNegativeInt, Range, validate_ranges

# every_n_epochs / every_n_steps: a capture every this many; 0 or None never.
Every = NonNegativeInt | None
MaxFrames = Annotated[int, Range(2)]  # captures kept for a GIF: the first and the newest, at least


class Capture(keras.callbacks.Callback):
    """Base class: calls `capture` on a schedule, and `finish` when training ends.

    Args:
        out_dir: folder the captures are written to; created when first needed.
        every_n_epochs: capture after every this many epochs; 0 or None disables.
        every_n_steps: capture after every this many training batches; 0 or None disables.
        at_train_begin: also capture the untrained state. Defaults to `True`.
        verbose: 1 prints a line per file assembled at the end. Defaults to 0.
    """

    @validate_ranges
    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        every_n_epochs: Every = 1,
        every_n_steps: Every = None,
        at_train_begin: bool = True,
        verbose: int = 0,
    ):
        super().__init__()
        if not isinstance(out_dir, str | os.PathLike):
            raise ValueError(f"out_dir must be a path. Received: out_dir={out_dir!r}")
        self.out_dir = Path(out_dir)
        self.every_n_epochs = every_n_epochs or 0
        self.every_n_steps = every_n_steps or 0
        self.at_train_begin = at_train_begin
        self.verbose = verbose
        self._epoch = 0
        self._step = 0
        self._initial_pending = False

    # True where a capture reads weights or the input shape, which an unbuilt model lacks.
    needs_built_model = True

    # ---------------------------------------------------------------- for subclasses
    def reset(self) -> None:
        """Forget earlier captures; called at train begin so an instance can be reused."""

    def capture(self, tag: str, epoch: int, step: int) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Assemble what spans the whole run (GIFs, summaries)."""

    def path(self, name: str) -> Path:
        """`out_dir / name`, with the folder created on first use."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return self.out_dir / name

    # ---------------------------------------------------------------- Keras hooks
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._epoch = 0
        self._step = 0
        self._initial_pending = False
        self.reset()
        if self.at_train_begin:
            if self.needs_built_model and not self.model.built:
                # A model without an Input is built by its first batch: capture right after it.
                self._initial_pending = True
            else:
                self.capture("epoch000", 0, 0)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._step += 1
        due = self.every_n_steps and self._step % self.every_n_steps == 0
        if self._initial_pending or due:
            self._initial_pending = False
            self.capture(f"step{self._step:06d}", self._epoch, self._step)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch + 1
        if self.every_n_epochs and self._epoch % self.every_n_epochs == 0:
            self.capture(f"epoch{self._epoch:03d}", self._epoch, self._step)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.finish()


class TrainEndCapture(Capture):
    """A capture of the trained model: at train end, plus every `every_n_epochs` epochs if set,
    never twice for the same epoch (the work is heavy: interpretation maps, optimised images)."""

    @validate_ranges
    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        every_n_epochs: Every = None,
        verbose: int = 0,
    ):
        super().__init__(out_dir, every_n_epochs, None, at_train_begin=False, verbose=verbose)
        self._captured_epoch: int | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._captured_epoch = None
        super().on_train_begin(logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        if self.every_n_epochs and self._epoch % self.every_n_epochs == 0:
            self._captured_epoch = self._epoch

    def finish(self) -> None:
        if self._captured_epoch != self._epoch:
            self.capture(f"epoch{self._epoch:03d}", self._epoch, self._step)
            self._captured_epoch = self._epoch
