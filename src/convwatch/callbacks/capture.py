"""Capture: the schedule and folder handling every convwatch capture callback shares.

A capture runs at train begin (the untrained network, tagged `epoch000`; for a model that is
built only by its first batch, right after that batch, tagged `step000001`), then every
`every_n_epochs` epochs and/or every `every_n_steps` batches; 0 or None turns either off.
Subclasses implement `capture(tag, epoch, step)` and, if they assemble something at the end
(a GIF), `finish()`, which runs once: right after the last epoch's capture (so that every
capture's last work runs side by side), or at train end when training stopped early.

A capture keeps on the training thread only what must see the model at that moment (copies
of maps, kernels, feature vectors) and hands rendering and writing to `later(fn, ...)`: its
`convwatch.base.background.Lane`, which runs them in order on a background thread. Train end
waits for that work, so every file is complete when `fit` returns; an error in it is raised as
this capture's error. The output folder is created when the first file is written. Numeric
arguments declare their range in the signature (`convwatch.base.ranges`); `@validate_ranges` on each
`__init__` refuses a value outside it, and the runner checks the same declarations before any
run folder exists.

A capture also describes itself, so that nothing else lists it: `group` (the sentence heading
its section of the run page), `captions` (what each file it writes is), `run_options` and
`supplied` (what an experiment may give and what the runner fills in), `from_run` (how it is
built from a run's data, `RunInputs`) and `check_options` (what it refuses before any folder).
A subclass with a `group` of its own is an experiment capture: `registered()` lists it. In a
notebook, a capture shows its latest pictures (`display.py`)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar

import keras

from convwatch.base import atomic
from convwatch.base.background import Lane
from convwatch.base.ranges import NonNegativeInt, Range, validate_ranges
from convwatch.callbacks.budget import (
    UNSET,
    Grant,
    Ledger,
    check_fraction,
    default_fraction,
    ledger_for,
)
from convwatch.callbacks.display import Displayed
from convwatch.callbacks.model_copy import ModelCopy, copy_for, forget_snapshot, waited
from convwatch.callbacks.run_inputs import RunInputs

logger = logging.getLogger(__name__)
BUDGET_JSON = "budget.json"
# The caption of what a budgeted capture writes about its budget (see `sized`).
BUDGET_CAPTION = (
    r"budget\.json",
    "What the capture budget let each capture draw, what it thinned or skipped, and why.",
)

# every_n_epochs / every_n_steps: a capture every this many; 0 or None never.
Every = NonNegativeInt | None
MaxFrames = Annotated[int, Range(2)]  # captures kept for a GIF: the first and the newest, at least


def keras_backend() -> str:
    """The Keras backend this process uses: "tensorflow", "jax", "torch" or "numpy"."""
    return keras.backend.backend()


class Capture(Displayed, keras.callbacks.Callback):
    """Base class: calls `capture` on a schedule, and `finish` when training ends.

    Args:
        out_dir: folder the captures are written to; created when first needed.
        every_n_epochs: capture after every this many epochs; 0 or None disables.
        every_n_steps: capture after every this many training batches; 0 or None disables.
        at_train_begin: also capture the untrained state. Defaults to `True`.
        verbose: 1 logs a line per file assembled at the end. Defaults to 0.
        budget: for a budgeted capture, the share of training time the captures of this fit
            may add, for all of them (`budget.py`); None: everything as scheduled. Defaults
            to the fit's (0.2 unless set elsewhere).
    """

    # ---------------------------------------------------------------- self-description
    # One or two sentences heading this capture's section of the run page. None: not an
    # experiment capture (a base class, a test double): `registered()` leaves it out.
    group: ClassVar[str | None] = None
    # (pattern, caption) per kind of file written: the pattern is a regex that must match the
    # whole path relative to the capture's folder, "{tag}" standing for epoch<N> or step<N>;
    # its named groups fill the caption's {placeholders}, and {tag} there becomes words.
    captions: ClassVar[tuple[tuple[str, str], ...]] = ()
    # Options an experiment may give that `from_run` consumes (not constructor arguments):
    # name -> annotation, with its Range where it has one.
    run_options: ClassVar[Mapping[str, Any]] = {}
    # Constructor parameters `from_run` fills from the run; an experiment cannot set them.
    supplied: ClassVar[frozenset[str]] = frozenset({"out_dir"})
    # The Keras backends the capture runs on; None: any (every built-in capture). One that
    # names some (a user's capture written with TensorFlow ops, say) is refused at train begin
    # on another backend, before the first batch, not at its first capture.
    backends: ClassVar[frozenset[str] | None] = None

    @validate_ranges
    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        every_n_epochs: Every = 1,
        every_n_steps: Every = None,
        at_train_begin: bool = True,
        verbose: int = 0,
        budget: float | None = UNSET,
    ):
        super().__init__()
        if not isinstance(out_dir, str | os.PathLike):
            raise ValueError(f"out_dir must be a path. Received: out_dir={out_dir!r}")
        self.budget = budget if budget is UNSET else check_fraction(budget)
        self.out_dir = Path(out_dir)
        self.every_n_epochs = every_n_epochs or 0
        self.every_n_steps = every_n_steps or 0
        self.at_train_begin = at_train_begin
        self.verbose = verbose
        self._epoch = self._step = 0
        self._initial_pending = False
        self._finished = False
        self._lane: Lane | None = None
        self._ledger: Ledger | None = None
        self._final = False  # the capture being taken is the last epoch's
        self.budget_log: list[dict[str, Any]] = []

    # True where a capture sizes its work by the fit's budget (`budget.py`): its `capture`
    # hands `self.sized(...)` its work, which the ledger grants a scale.
    budgeted = False
    # True where a capture reads weights or the input shape, which an unbuilt model lacks.
    needs_built_model = True

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """`{"group": ..., "files": [[pattern, caption], ...]}`, ready for JSON (run.json)."""
        return {"group": cls.group, "files": [[p, c] for p, c in cls.captions]}

    @classmethod
    def from_run(cls, inputs: RunInputs, **options: Any) -> Capture:
        """The capture an experiment declares with `options`, writing to `inputs.out_dir`.
        Captures that need the run's data (probe images, labels) override this."""
        return cls(out_dir=inputs.out_dir, **options)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """ValueError for `options` that would fail later, after the run folder exists or
        after training (the message names the option, the value and what is valid). The
        runner calls it before any folder; ranges and names it checks itself."""

    @classmethod
    def check_backend(cls) -> None:
        """RuntimeError where this capture cannot run on the Keras backend in use, naming the
        backend and the ones it runs on. Train begin calls it, and the runner before any
        folder."""
        backend = keras_backend()
        if cls.backends is not None and backend not in cls.backends:
            runs_on = sorted(cls.backends)
            raise RuntimeError(
                f"{cls.__name__} runs on the {' or '.join(runs_on)} Keras backend only, and this "
                f"process uses {backend!r}. Set KERAS_BACKEND={runs_on[0]} before Keras is "
                f"imported, or leave {cls.__name__} out."
            )

    # ---------------------------------------------------------------- run-level hooks
    def final_metrics(self) -> dict[str, Any]:
        """Figures merged into the run's metrics.json. Defaults to none."""
        return {}

    def run_summary(self) -> dict[str, Any] | None:
        """This capture's entry in run.json's "reports". None (the default): no entry."""
        return None

    # ---------------------------------------------------------------- for subclasses
    def reset(self) -> None:
        """Forget earlier captures; called at train begin so an instance can be reused."""

    def capture(self, tag: str, epoch: int, step: int) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Assemble what spans the whole run (GIFs, summaries)."""

    def later(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `fn(*args, **kwargs)` in the background, after this capture's earlier work. Give
        it copies: the model and the arrays the training thread changes are not for it."""
        if self._lane is None:
            self._lane = Lane(type(self).__name__)
        self._lane.submit(fn, *args, **kwargs)

    def wait(self) -> None:
        """Wait for the background work given so far; raise its error, if any."""
        if self._lane is not None:
            self._lane.drain()

    def cancel_background(self) -> None:
        """Drop background work not yet started and wait for what is running (training was
        stopped by an error or a signal: files already written stay, none is half-written)."""
        if self._ledger is not None:
            self._ledger.close()  # work waiting for training to be timed goes ahead
        if self._lane is not None:
            self._lane.cancel()

    def path(self, name: str) -> Path:
        """`out_dir / name`, with the folder created on first use."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return self.out_dir / name

    # ---------------------------------------------------------------- the budget
    @property
    def budget_active(self) -> bool:
        """True where this capture's work is sized by a budget (a fraction, not None)."""
        return self._ledger is not None and self._ledger.fraction is not None

    def sized(
        self,
        tag: str,
        epoch: int,
        final: bool,
        units: Callable[[float], float],
        work: Callable[[float], str],
        wait: bool = True,
    ) -> None:
        """Ask the fit's ledger for a scale for this capture (waiting, with `wait`, until
        training has been timed), then `work(scale)` (which returns what it drew, in words:
        "2 of 5 layers, ..."), charge its time and write it down (`budget.json`, a log line
        where thinned or skipped). On a background lane, or with `wait=False` on the
        training thread. `final`: the capture is the last epoch's."""
        ledger = self._ledger
        grant = ledger.grant(self, units, epoch, final, wait=wait) if ledger else Grant(1.0, "")
        if grant.scale is None:
            self._note(tag, epoch, grant, None, 0.0)
            return
        start, waited_before = time.perf_counter(), waited()
        try:
            drawn = work(grant.scale)
        finally:
            if ledger is not None:
                ledger.release(self)  # what the grant reserved: its time is charged below
        took = time.perf_counter() - start - (waited() - waited_before)
        if ledger is not None:
            ledger.charge(self, units(grant.scale), took, final, on_thread=not wait)
        self._note(tag, epoch, grant, drawn, took)

    def model_copy(self) -> ModelCopy | None:
        """Once per fit: a private copy of the model to read in the background, or None: read
        the live model on the training thread (`model_copy.copy_for`)."""
        fraction = self._ledger.fraction if self._ledger is not None else default_fraction()
        return copy_for(self.model, fraction)

    def draw_later(self, fn: Callable[..., Any], *args: Any) -> None:
        """`later(fn, *args)`, its time charged to the fit's budget: the drawing of what was
        read on the training thread."""
        self.later(self._charged, self._final, fn, *args)

    def _charged(self, final: bool, fn: Callable[..., Any], *args: Any) -> None:
        start = time.perf_counter()
        fn(*args)
        if self._ledger is not None:
            self._ledger.spend(time.perf_counter() - start, final)

    def set_up(self, fn: Callable[..., Any], *args: Any) -> None:
        """`fn(*args)`: a capture's once-a-fit preparation (choosing layers, timing a forward
        pass) on its background lane once training has been timed, its time charged to the
        fit's budget."""
        if self._ledger is not None:
            self._ledger.wait_timed()
        start, waited_before = time.perf_counter(), waited()
        fn(*args)
        if self._ledger is not None:
            self._ledger.spend(time.perf_counter() - start - (waited() - waited_before))

    def _note(self, tag: str, epoch: int, grant: Grant, drawn: str | None, took: float) -> None:
        if not self.budget_active:
            return
        entry = {"tag": tag, "epoch": epoch, "scale": grant.scale, "seconds": round(took, 3)}
        entry.update(drawn=drawn, why=grant.reason)
        self.budget_log.append(entry)
        name = type(self).__name__
        if grant.scale is None:
            logger.info(f"{name}: {tag} skipped ({grant.reason})")
        elif grant.scale < 1:
            logger.info(f"{name}: {tag} thinned to {drawn} ({grant.reason})")
        atomic.write_json(self.path(BUDGET_JSON), {"captures": self.budget_log})

    def run_notes(self) -> list[str]:
        """Sentences shown as notes on the run page (and the console): by default, what the
        capture budget thinned or skipped, if anything."""
        thinned = [e for e in self.budget_log if e["scale"] is None or e["scale"] < 1]
        if not thinned:
            return []
        parts = [
            f"{e['tag']} skipped" if e["scale"] is None else f"{e['tag']}: {e['drawn']}"
            for e in thinned
        ]
        return [f"{type(self).__name__} kept the capture budget: " + "; ".join(parts) + "."]

    def _timed(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call `fn` on the training thread, telling the ledger how long it took."""
        start = time.perf_counter()
        fn(*args)
        if self._ledger is not None:
            self._ledger.on_training_thread(time.perf_counter() - start)

    def _is_clock(self) -> bool:
        return self._ledger is not None and self._ledger.clock is self

    # ---------------------------------------------------------------- Keras hooks
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.check_backend()
        self._epoch = self._step = 0
        self._initial_pending = False
        self._finished = False
        self._final = False
        self.budget_log = []
        self.cancel_background()  # anything left by a fit that raised
        forget_snapshot(self.model)  # the weights may have changed since the last fit
        self._ledger = ledger_for(self, self.budget) if self.budgeted else None
        if self._is_clock():
            self._ledger.train_begin(getattr(self, "params", None) or {})
        self.reset()
        if self.at_train_begin:
            if self.needs_built_model and not self.model.built:
                # A model without an Input is built by its first batch: capture right after it.
                self._initial_pending = True
            else:
                self._timed(self.capture, "epoch000", 0, 0)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._is_clock():
            self._ledger.epoch_begin()

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        forget_snapshot(self.model)  # the weights change in this batch
        if self._is_clock():
            self._ledger.batch_begin()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._is_clock():
            self._ledger.batch_end()
        self._step += 1
        due = self.every_n_steps and self._step % self.every_n_steps == 0
        if self._initial_pending or due:
            self._initial_pending = False
            self._timed(self.capture, f"step{self._step:06d}", self._epoch, self._step)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._is_clock():
            self._ledger.epoch_end()
        self._epoch = epoch + 1
        last = self._epoch == (getattr(self, "params", None) or {}).get("epochs")
        due = self.every_n_epochs and self._epoch % self.every_n_epochs == 0
        # Under a budget the trained network is always captured, whatever the schedule.
        if due or (last and self.budget_active):
            self._final = last
            self._timed(self.capture, f"epoch{self._epoch:03d}", self._epoch, self._step)
            self._final = False
        if last:
            self._finish_once()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._ledger is not None:
            self._ledger.close()
        self._finish_once()
        self.wait()

    def _finish_once(self) -> None:
        if not self._finished:
            self._finished = True
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
        if self.every_n_epochs and (epoch + 1) % self.every_n_epochs == 0:
            self._captured_epoch = epoch + 1  # before the base class captures and finishes
        super().on_epoch_end(epoch, logs)

    def finish(self) -> None:
        if self._captured_epoch != self._epoch:
            self.capture(f"epoch{self._epoch:03d}", self._epoch, self._step)
            self._captured_epoch = self._epoch
