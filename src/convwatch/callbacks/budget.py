"""The capture budget: the share of training time the captures of one fit may add, kept by
sizing each capture's work, not by a fixed schedule.

On the 30/15 MNIST net a filter atlas costs a fraction of a second; on ResNet50 at 160 px on a
laptop CPU the same defaults would take an hour. So the captures of one `fit` share a `Ledger`
(one per fit, found through the model) that:

- times training, from the batches and epochs, less the time captures take on the training
  thread, and projects the whole fit's length (`params["epochs"]` epochs);
- allows the captures `fraction` of that (0.2 by default: fit with every capture <= 1.2x plain
  fit), charges each capture's work (training thread and background) against it;
- sizes each capture: a capture offers a ladder of scales (1 = everything it was asked for;
  smaller = fewer layers, filters, probe images, points) and predicts what each costs (its
  "units": seconds, from one timed forward pass of its network and the work each scale
  needs); the ledger corrects that prediction by what the capture measured, and grants the
  largest scale whose cost fits. Half the allowance is paced over the epochs; the rest is
  kept for the last epoch, which every capture always draws (at the smallest scale, if that
  is all that is left). A capture whose smallest scale does not fit an intermediate epoch's
  share skips that epoch.

Until training has been timed (a few batches) a capture's work waits on its background lane, so
even the untrained network's capture is sized by the budget. `fraction=None` grants everything
as scheduled, at once: what the suite's own experiments declare, where the pictures are the
product. The default is 0.2, or `$CONVWATCH_CAPTURE_BUDGET` (a number, or `none`), or the
`default_budget(...)` context the runner sets.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_FRACTION = 0.2
ENV = "CONVWATCH_CAPTURE_BUDGET"
SCALES = (1.0, 0.7, 0.5, 0.35, 0.25, 0.18, 0.12, 0.08, 0.05, 0.03, 0.02, 0.01)
PACED = 0.5  # share of the allowance spread over the epochs; the rest waits for the last one
TIMED_BATCHES = 3  # batches timed before the fit's length is projected from them
SILENT_S = 60.0  # a lane waiting for training to be timed gives up after this much silence
PRIOR_MARGIN = 1.5  # a capture's own prediction of its cost, before it measured any, times this


class _Unset:
    def __repr__(self) -> str:
        return "default"


UNSET: Any = _Unset()  # a capture that leaves the budget to its siblings or the default
_DEFAULT: list[float | None | _Unset] = [UNSET]  # set by `default_budget`
_LEDGERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> Ledger
_LOCK = threading.Lock()


def check_fraction(value: Any, name: str = "budget") -> float | None:
    """`value` as a budget fraction: None, or a finite number > 0; a ValueError otherwise."""
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"{name} must be None (draw everything as scheduled) or a fraction of training "
            f"time > 0, e.g. 0.2. Received: {name}={value!r}"
        )
    return float(value)


def default_fraction() -> float | None:
    """The budget of a fit whose captures set none: `default_budget`'s, else
    `$CONVWATCH_CAPTURE_BUDGET` (`none` or a number), else 0.2."""
    if _DEFAULT[0] is not UNSET:
        return _DEFAULT[0]
    text = os.environ.get(ENV, "").strip().lower()
    if not text:
        return DEFAULT_FRACTION
    if text in ("none", "off", "all"):
        return None
    try:
        return check_fraction(float(text), ENV)
    except ValueError:
        raise ValueError(f"${ENV} must be 'none' or a number > 0. Received: {text!r}") from None


@contextlib.contextmanager
def default_budget(fraction: float | None) -> Iterator[None]:
    """Within the block, fits whose captures set no budget use `fraction`."""
    previous, _DEFAULT[0] = _DEFAULT[0], check_fraction(fraction)
    try:
        yield
    finally:
        _DEFAULT[0] = previous


@dataclass(frozen=True)
class Grant:
    """What a capture may do now: `scale` (None: skip), and the sentence saying why."""

    scale: float | None
    reason: str


class Ledger:
    """One fit's budget; see the module docstring. Thread-safe: captures' lanes grant and charge
    from their own threads, the training thread times."""

    def __init__(self, fraction: float | None):
        self.fraction = fraction
        self.members: list[Any] = []  # the captures sharing it, in train-begin order
        self.closed = False
        self._cond = threading.Condition()
        self._epochs = 1
        self._steps: int | None = None
        self._batch_times: list[float] = []  # this epoch's, less capture time
        self._epoch_times: list[float] = []
        self._tracing = 0.0  # how much longer the first batch took than the others
        self._batch_start = self._epoch_start = 0.0
        self._thread = 0.0  # capture seconds on the training thread since the clock started
        self._paced = 0.0  # seconds charged by captures before the last epoch
        self._spent = 0.0
        self._observed: dict[int, list[tuple[float, float]]] = {}  # capture -> (units, s)
        self._finals_left: set[int] = set()
        self._floor: dict[int, float] = {}  # capture -> predicted seconds at its smallest
        self._full: dict[int, float] = {}  # capture -> predicted seconds in full
        self._reserved: dict[int, float] = {}  # capture -> predicted seconds granted, not charged
        self._heard = time.monotonic()  # when training was last heard from

    # ---------------------------------------------------------------- who shares it
    def join(self, capture: Any, fraction: float | None | _Unset) -> None:
        if fraction is not UNSET and fraction != self.fraction:
            if any(getattr(m, "budget", UNSET) is not UNSET for m in self.members):
                setters = [type(m).__name__ for m in self.members if m.budget is not UNSET]
                self.close()  # the fit stops here: nothing may wait for it
                raise ValueError(
                    f"The captures of one fit share one budget: {type(capture).__name__} sets "
                    f"budget={fraction!r}, {setters[0]} set budget={self.fraction!r}. Set it "
                    "on one capture (it applies to all), or the same on each."
                )
            self.fraction = fraction
        self.members.append(capture)
        self._finals_left.add(id(capture))

    @property
    def clock(self) -> Any:
        return self.members[0] if self.members else None

    # ---------------------------------------------------------------- timing training
    def train_begin(self, params: dict[str, Any]) -> None:
        self._epochs = max(1, int(params.get("epochs") or 1))
        self._steps = params.get("steps")

    def batch_begin(self) -> None:
        self._batch_start, self._thread_at_batch = time.perf_counter(), self._thread

    def batch_end(self) -> None:
        took = time.perf_counter() - self._batch_start - (self._thread - self._thread_at_batch)
        with self._cond:
            self._heard = time.monotonic()
            self._batch_times.append(took)
            if len(self._batch_times) >= TIMED_BATCHES:
                self._cond.notify_all()

    def epoch_begin(self) -> None:
        self._epoch_start, self._thread_at_epoch = time.perf_counter(), self._thread

    def epoch_end(self) -> None:
        took = time.perf_counter() - self._epoch_start - (self._thread - self._thread_at_epoch)
        with self._cond:
            if not self._epoch_times and len(self._batch_times) >= 2:
                # the first batch traced the training step: later epochs will not
                later = sorted(self._batch_times[1:])
                self._tracing = max(self._batch_times[0] - later[len(later) // 2], 0.0)
            self._epoch_times.append(took)
            self._batch_times.clear()
            self._cond.notify_all()

    def close(self) -> None:
        """Training is over: a capture still waiting for the projection goes ahead."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def _given_up(self) -> bool:
        """True once training is over, or silent (no batch ended) for `SILENT_S`: a fit that
        raised never says it ended, and a lane must not wait for it forever."""
        return self.closed or time.monotonic() - self._heard > SILENT_S

    def on_training_thread(self, seconds: float) -> None:
        """`seconds` a capture took on the training thread: not training time, and charged."""
        with self._cond:
            self._thread += seconds
            self._spent += seconds

    def projected_fit(self) -> float | None:
        """Seconds the whole fit would take without captures, as far as known now."""
        with self._cond:
            return self._projected()

    def _projected(self) -> float | None:
        if self._epoch_times:  # the epochs done, and the latest for each one to come
            remaining = max(0, self._epochs - len(self._epoch_times))
            latest = self._epoch_times[-1] - (self._tracing if len(self._epoch_times) == 1 else 0)
            return sum(self._epoch_times) + latest * remaining
        if len(self._batch_times) < TIMED_BATCHES:
            return None
        if not self._steps:  # a stream of unknown length: what was timed, a lower bound
            return sum(self._batch_times) * self._epochs
        later = sorted(self._batch_times[1:])  # the first one builds and traces the step
        per_batch = later[len(later) // 2]
        return self._batch_times[0] + per_batch * (self._steps * self._epochs - 1)

    # ---------------------------------------------------------------- granting work
    def grant(
        self,
        capture: Any,
        units: Callable[[float], float],
        epoch: int,
        final: bool,
        scales: Sequence[float] = SCALES,
        wait: bool = True,
    ) -> Grant:
        """The scale `capture` may work at now (see the module docstring). With `wait`, waits
        until training has been timed, or is over (never on the training thread)."""
        if self.fraction is None:
            return Grant(1.0, "no budget: everything as scheduled")
        if wait:
            self.wait_timed()
        with self._cond:
            fit = self._projected() or 0.0
            allowance = self.fraction * fit
            estimate = self._estimator(capture)
            me = id(capture)
            self._floor[me] = estimate(units(scales[-1]))
            self._full[me] = max(estimate(units(scales[0])), self._floor[me])
            available = self._available(me, allowance, epoch, final)
            left = max(available, 0)
            about = f"budget {self.fraction:g} of {fit:.1f} s of training: {left:.2f} s"
            for scale in scales:
                if estimate(units(scale)) <= available:
                    return self._granted(me, scale, estimate(units(scale)), about)
            if final:  # the trained network is always drawn
                note = " (the smallest size, over budget)"
                return self._granted(me, scales[-1], self._floor[me], about + note)
        return Grant(None, about + ", too little for the smallest size")

    def _granted(self, me: int, scale: float, seconds: float, about: str) -> Grant:
        """A grant, its predicted time reserved until charged (or released): captures asking
        side by side (the last epoch's, all at once) share what is left, not each all of it."""
        self._reserved[me] = self._reserved.get(me, 0.0) + seconds
        return Grant(scale, about)

    def release(self, capture: Any) -> None:
        """Drop what `capture`'s grant reserved: its work is over (charged, or it raised)."""
        with self._cond:
            self._reserved.pop(id(capture), None)

    def _available(self, me: int, allowance: float, epoch: int, final: bool) -> float:
        """Seconds capture `me` may spend now. The last epoch's captures first get what each
        needs at its smallest size, then share the rest by what each would cost in full;
        before the last epoch, a capture shares (by the same measure) what the pacing allows,
        less what the last epoch's smallest captures need."""
        left = allowance - self._spent - sum(v for k, v in self._reserved.items() if k != me)
        if final:
            pending = self._finals_left | {me}
            self._finals_left.discard(me)
        else:
            pending = self._finals_left
            paced = PACED * allowance * min(1.0, (epoch + 1) / self._epochs) - self._paced
            paced -= sum(v for k, v in self._reserved.items() if k != me)
            left = min(left - sum(self._floor.get(i, 0.0) for i in pending), paced)
            pending = {id(m) for m in self.members}
            return left * self._full[me] / max(sum(self._full.get(i, 0.0) for i in pending), 1e-9)
        floors = sum(self._floor.get(i, 0.0) for i in pending)
        if left < floors:  # not even every smallest capture fits: a share of what is left
            return left * self._floor[me] / max(floors, 1e-9)
        extra = sum(self._full.get(i, 0.0) - self._floor.get(i, 0.0) for i in pending)
        surplus = left - floors
        return self._floor[me] + surplus * (self._full[me] - self._floor[me]) / max(extra, 1e-9)

    def wait_timed(self) -> None:
        """Wait until training has been timed, or is over (never on the training thread). A
        capture's preparation waits too: the first batches trace the training step, in Python,
        and a capture tracing its own functions beside them would slow them down."""
        if self.fraction is None:
            return
        with self._cond:
            while self._projected() is None and not self._given_up():
                self._cond.wait(timeout=0.5)

    def spend(self, seconds: float, final: bool = False) -> None:
        """`seconds` a capture spent off the training thread, not on a scale's work (preparing,
        drawing what the training thread read): charged, and paced like any capture's work
        before the last epoch."""
        with self._cond:
            self._spent += seconds
            if not final:
                self._paced += seconds

    def charge(
        self, capture: Any, units: float, seconds: float, final: bool, on_thread: bool = False
    ) -> None:
        """`capture` worked `seconds` on `units` of work (`on_thread`: on the training thread,
        where `on_training_thread` already charged the time)."""
        with self._cond:
            if not on_thread:
                self._spent += seconds
            if not final:
                self._paced += seconds
            self._observed.setdefault(id(capture), []).append((units, seconds))

    def _estimator(self, capture: Any) -> Callable[[float], float]:
        """units -> seconds for `capture`, from what it measured: a line through its last two
        sizes, or, from one, proportional above it and the same below (a fixed part is
        likely). Before it measured anything, its units are its own prediction in seconds,
        taken with a margin."""
        seen = self._observed.get(id(capture))
        if not seen:
            return lambda u: PRIOR_MARGIN * u
        (u1, s1), (u0, s0) = seen[-1], (seen[-2] if len(seen) > 1 else seen[-1])
        if u1 != u0 and (s1 - s0) / (u1 - u0) > 0:
            rate = (s1 - s0) / (u1 - u0)
            return lambda u: max(s0 + rate * (u - u0), 0.0)
        return lambda u: s1 * max(u / max(u1, 1e-9), 1.0)


def ledger_for(capture: Any, fraction: float | None | _Unset) -> Ledger:
    """The ledger of the fit `capture` is starting (its model's), made by the first capture of
    a fit to start; a capture that starts again is in a new fit."""
    model = capture.model
    with _LOCK:
        ledger = _LEDGERS.get(model)
        if ledger is None or ledger.closed or any(m is capture for m in ledger.members):
            start = default_fraction() if fraction is UNSET else fraction
            ledger = Ledger(start)
            _LEDGERS[model] = ledger
        ledger.join(capture, fraction)
        return ledger
