"""Lane: work done in order on a background thread, so that training does not wait for it.

A capture keeps on the training thread only what must see the model at that moment (copies
of maps, kernels, weights, feature vectors) and hands the rest, rendering and writing, to its
lane. A lane runs its tasks one at a time, in the order given, on a thread that exists only
while there is work (so a lane never keeps a program from exiting, and is never left waiting).
At most `max_pending` tasks wait or run at once: `submit` blocks past that, so memory stays
flat however slow the disk. The first task that raises stops the lane: the tasks after it are
dropped (they build on it) and its exception is raised, with a note naming the lane, by the
next `submit` or `drain`: on the training thread, as the capture's own error.

`CONVWATCH_BACKGROUND=0` runs every task inline, at `submit` (for debugging, and for benches
that compare the two).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

ENV = "CONVWATCH_BACKGROUND"
MAX_PENDING = 4  # tasks of one lane waiting or running at once
REPORT_AFTER_S = 1.0  # a drain that takes longer than this says what it waits for


def background_enabled() -> bool:
    """False where $CONVWATCH_BACKGROUND is 0 (every lane runs its tasks inline)."""
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class Lane:
    """Tasks run in order on one background thread; see the module docstring.

    Args:
        name: what the lane works for, in log lines and error notes (a capture's class name).
        max_pending: most tasks waiting or running at once; `submit` blocks past it.
        inline: run tasks at `submit`, on the caller's thread. Defaults to
            `not background_enabled()`.
    """

    def __init__(self, name: str, max_pending: int = MAX_PENDING, inline: bool | None = None):
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1. Received: {max_pending}")
        self.name = name
        self.max_pending = max_pending
        self.inline = (not background_enabled()) if inline is None else inline
        self._cond = threading.Condition()
        self._tasks: deque[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = deque()
        self._busy = 0  # tasks queued or running
        self._worker: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._cancelled = False

    @property
    def pending(self) -> int:
        """Tasks queued or running now."""
        with self._cond:
            return self._busy

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `fn(*args, **kwargs)` after the tasks before it; waits while the lane is full.
        Raises an earlier task's exception instead, if one failed."""
        if self.inline:
            self._raise_failure()
            fn(*args, **kwargs)
            return
        with self._cond:
            self._raise_failure()
            while self._busy >= self.max_pending:
                self._cond.wait()
                self._raise_failure()
            self._cancelled = False
            self._tasks.append((fn, args, kwargs))
            self._busy += 1
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name=f"convwatch-{self.name}", daemon=False
                )
                self._worker.start()

    def drain(self) -> None:
        """Wait for every task given so far; raise the first one's exception that failed.
        A wait longer than a second is logged, with what is left."""
        start = time.monotonic()
        reported = False
        with self._cond:
            while self._busy:
                self._cond.wait(timeout=0.1)
                if not reported and self._busy and time.monotonic() - start > REPORT_AFTER_S:
                    logger.info(f"{self.name}: finishing {self._busy} background task(s)…")
                    reported = True
            self._raise_failure()
        if reported:
            logger.info(f"{self.name}: background work done in {time.monotonic() - start:.1f} s")

    def cancel(self) -> None:
        """Drop the tasks not yet started and wait for the running one, so that nothing is
        left half-done (a run that is stopping). A failure is forgotten, not raised."""
        with self._cond:
            self._cancelled = True
            self._busy -= len(self._tasks)
            self._tasks.clear()
            while self._busy:
                self._cond.wait(timeout=0.1)
            self._failure = None

    def _work(self) -> None:
        while True:
            with self._cond:
                if not self._tasks:
                    self._worker = None
                    self._cond.notify_all()
                    return
                fn, args, kwargs = self._tasks.popleft()
            try:
                fn(*args, **kwargs)
            except BaseException as error:  # noqa: BLE001 - handed to the training thread
                with self._cond:
                    if self._failure is None and not self._cancelled:
                        self._failure = error
                    self._busy -= len(self._tasks)
                    self._tasks.clear()
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    def _raise_failure(self) -> None:
        if self._failure is None:
            return
        error, self._failure = self._failure, None
        error.add_note(f"(raised by {self.name}'s background work)")
        raise error
