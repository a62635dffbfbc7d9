"""The runner's fit step: `model.fit` with the run's own callbacks and the experiment's captures.

The run's own callbacks come first: RunGuard (a signal or a NaN loss stops fit at the next
batch), the history recorder (history.csv, and run.json's epoch count, each epoch), the epoch
checkpoint (for `convwatch resume`) and TensorBoard. Then the captures the experiment names, in
the order it declares them, each writing under `artifacts/<Name>/`. Last, the live page
(`convwatch.run.live_page`): the run's index.html rewritten in the background after each epoch,
after the recorder and the captures have done theirs. A resumed run loads its checkpoint's
weights and optimizer state first and goes on from the epoch after it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import tensorflow as tf

from convwatch.base import atomic, layout
from convwatch.callbacks import Capture, HistoryRecorder
from convwatch.callbacks.budget import default_budget
from convwatch.callbacks.epoch_checkpoint import EpochCheckpoint
from convwatch.callbacks.run_guard import RunGuard
from convwatch.run.captures import build_callbacks
from convwatch.run.folder import RunFolder
from convwatch.run.live_page import LivePage
from convwatch.run.prepare import Arrays
from convwatch.run.record import write_record
from convwatch.run.signals import STOP, deferred
from convwatch.run.spec import Experiment

CHECKPOINT = layout.CHECKPOINT_FILE  # the last epoch-end model and optimizer, for resume
CHECKPOINT_EVERY_S = float(os.environ.get("CONVWATCH_CHECKPOINT_EVERY_S", "10"))

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fitted:
    """What the fit step leaves for the next ones: the epochs' logs and the captures."""

    recorder: HistoryRecorder  # one row per epoch, a resumed run's earlier ones included
    captures: list[Capture]  # the experiment's captures, in declared order


class ContinuedHistory(HistoryRecorder):
    """A HistoryRecorder whose rows start from `earlier`: a resumed run's epochs up to its
    checkpoint, so that history.csv keeps them and grows."""

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        earlier: Sequence[dict[str, Any]] = (),
        on_epoch: Callable[[int], None] | None = None,
    ):
        super().__init__(out_dir, on_epoch=on_epoch)
        self.earlier = list(earlier)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.rows = list(self.earlier)


def fit_with_captures(
    experiment: Experiment,
    model: Any,
    arrays: Arrays,
    dataset: Any,
    folder: RunFolder,
    record: dict[str, Any],
    resume: bool,
) -> Fitted:
    """Fit `model` for `experiment.fit`, keeping `record` (run.json) up to date each epoch and
    each checkpoint; on `resume`, from the checkpoint in `folder`."""
    initial_epoch = record["checkpoint_epoch"] if resume else 0
    if resume:
        _load_checkpoint(model, folder, initial_epoch)
    recorder = ContinuedHistory(
        folder.path,
        _earlier_rows(folder, initial_epoch),
        on_epoch=lambda epochs: _note(folder, record, "epochs_completed", epochs),
    )
    live = LivePage(folder.path)
    callbacks: list[keras.callbacks.Callback] = [
        RunGuard(STOP.error, on_nan=experiment.fit.on_nan),
        recorder,
        EpochCheckpoint(
            folder.path / CHECKPOINT,
            every_s=CHECKPOINT_EVERY_S,
            on_save=lambda epochs: _note(folder, record, "checkpoint_epoch", epochs),
        ),
        keras.callbacks.TensorBoard(log_dir=str(folder.tensorboard_dir), histogram_freq=1),
        *build_callbacks(experiment.callbacks, arrays, dataset, folder),
        live,
    ]
    fit = experiment.fit
    validation = (arrays.x_test, arrays.y_test) if fit.validation == "test" else None
    captures = [c for c in callbacks if isinstance(c, Capture)]
    with (
        deferred(),
        live.stopped_on_error(),
        _background_stopped_on_error(captures),
        default_budget(fit.capture_budget),
    ):
        # a signal stops fit at the next batch (RunGuard), not mid-write
        model.fit(
            *_training_data(arrays, fit.batch_size, fit.steps_per_epoch, experiment.seed),
            batch_size=None if fit.steps_per_epoch else fit.batch_size,  # a stream is batched
            epochs=fit.epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=fit.steps_per_epoch,
            validation_data=validation,
            shuffle=fit.shuffle,
            callbacks=callbacks,
            verbose=_keras_verbosity(),
        )
    return Fitted(recorder, captures)


@contextlib.contextmanager
def _background_stopped_on_error(captures: Sequence[Capture]) -> Iterator[None]:
    """If fit stops with an error or a signal, the captures' background work not yet started
    is dropped and the running work finishes, so the run ends with no file half-written."""
    try:
        yield
    except BaseException:
        for capture in captures:
            capture.cancel_background()
        raise


def _keras_verbosity() -> int:
    """Keras' own epoch lines follow the "convwatch" logger: shown when it shows progress (the
    CLI without --quiet), silent for a library user who configured no logging."""
    if not logging.getLogger("convwatch").isEnabledFor(logging.INFO):
        return 0
    return 1 if sys.stdout.isatty() else 2


def _load_checkpoint(model: Any, folder: RunFolder, epoch: int) -> None:
    """Weights and optimizer state only, from the checkpoint: nothing in the file is
    deserialized (no code from a file runs)."""
    model.optimizer.build(model.trainable_variables)
    model.load_weights(folder.path / CHECKPOINT)
    logger.info(f"resumed from the checkpoint after epoch {epoch}")


def _earlier_rows(folder: RunFolder, epochs: int) -> list[dict[str, Any]]:
    """history.csv's first `epochs` rows as numbers (none for a run starting afresh)."""
    if not epochs:
        return []
    return [
        {k: int(v) if k == "epoch" else float(v) for k, v in row.items() if v != ""}
        for row in atomic.read_csv(folder.path / layout.HISTORY_CSV)[:epochs]
    ]


def _note(folder: RunFolder, record: dict[str, Any], key: str, epochs: int) -> None:
    """Set run.json's `key` (epochs completed, or the epochs the checkpoint holds) and write it."""
    record[key] = epochs
    write_record(folder, record)


def _training_data(
    arrays: Arrays, batch_size: int, steps: int | None, seed: int
) -> tuple[Any, ...]:
    """Arrays for plain epochs; a repeating tf.data stream when steps per epoch are fixed."""
    if steps is None:
        return arrays.x_train, arrays.y_train
    stream = tf.data.Dataset.from_tensor_slices((arrays.x_train, arrays.y_train))
    stream = stream.shuffle(len(arrays.x_train), seed=seed).repeat().batch(batch_size)
    return (stream,)
