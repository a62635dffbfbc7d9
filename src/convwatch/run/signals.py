"""SIGINT and SIGTERM as a request to stop a run at the next batch, not mid-write.

The runner installs the handler (`signals_handled`) around a run or sweep. Inside `fit`, and
while a run's outcome is being written (`deferred`), a signal only sets `STOP.received`; the
RunGuard callback raises `Interrupted` at the next batch end. Elsewhere, or on a second signal,
the handler raises `Interrupted` at once, as Ctrl-C would.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger(__name__)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped a run or sweep; the CLI exits with 128 + `signum`."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


class StopRequest:
    """The first SIGINT/SIGTERM received. While `defer` is set (inside `fit`, and while a
    run's outcome is written) it only waits here for the RunGuard callback to act on at the
    next batch; otherwise, or on a second signal, it raises Interrupted at once."""

    received: int | None = None
    defer = False

    def error(self) -> Interrupted | None:
        return None if self.received is None else Interrupted(self.received)


STOP = StopRequest()


def _on_signal(signum: int, frame: Any) -> None:
    again = STOP.received is not None
    if not again:
        STOP.received = signum
        name = signal.Signals(signum).name
        logger.warning(f"{name} received: stopping at the next batch")
    if again or not STOP.defer:
        raise Interrupted(signum)


@contextlib.contextmanager
def signals_handled() -> Iterator[None]:
    """SIGINT and SIGTERM stop the run cleanly while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    STOP.received, STOP.defer = None, False
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A signal waits until the block ends, then raises Interrupted."""
    outer, STOP.defer = STOP.defer, True
    try:
        yield
    finally:
        STOP.defer = outer
    if not outer and STOP.received is not None:
        raise Interrupted(STOP.received)
