"""LivePage: the run's page rewritten after every epoch while the run goes, in the background.

A user can keep `<run>/index.html` open during a long run: while run.json says running (and the
run is alive), the page reloads itself (`convwatch.report.html.REFRESH_S`), and this callback
writes it again at train begin and after each epoch, with the newest curves (history.csv, which
the history recorder writes earlier in the same epoch end) and whatever the captures' files
are by then (they write theirs in their own lanes, so the page may lag one epoch behind them).
At train begin it also rewrites the sweep's page (for a sweep point) and the nearest results
index above, so that the running run shows there (running runs first).

The training thread only submits: the pages are read and written on the callback's own
`convwatch.base.background.Lane`. Writes coalesce: while one is waiting to start, an epoch
end adds none (the waiting one reads the folder when it starts, so it shows that epoch too);
so at most one runs and one waits, and `submit` never blocks. Train end waits for them; the
runner writes the final page itself afterwards, with no reload. A fit that raises calls
`stopped_on_error`'s cancel instead, so no live page lands after the runner's final one. A
page that cannot be written is a warning (`convwatch.run.publish`), never the run's error.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras

from convwatch.base import layout
from convwatch.base.background import Lane
from convwatch.run import publish

logger = logging.getLogger(__name__)

LANE = "LivePage"


class LivePage(keras.callbacks.Callback):
    """Rewrites `<run>/index.html` in the background at train begin and after each epoch.

    Args:
        run: the run folder.

    Example:
        >>> model.fit(x, y, callbacks=[recorder, *captures, LivePage(run)])  # doctest: +SKIP
    """

    def __init__(self, run: str | os.PathLike[str]) -> None:
        super().__init__()
        self.run = Path(run)
        self.lane = Lane(LANE, max_pending=2)  # one running, one waiting: never blocks
        self._lock = threading.Lock()
        self._waiting = False  # a write is queued and has not started
        self.written = 0  # writes started (for tests and logs)
        self.coalesced = 0  # epoch ends that needed no write of their own

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.submit(above=True)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.submit()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.lane.drain()

    def submit(self, above: bool = False) -> None:
        """Queue a write of the run's page (and, `above`, of the pages above it), unless one
        is already waiting to start."""
        with self._lock:
            if self._waiting:
                self.coalesced += 1
                return
            self._waiting = True
        self.lane.submit(self._write, above)

    def cancel_background(self) -> None:
        """Drop a write not yet started and wait for the running one (a fit that raised)."""
        self.lane.cancel()
        with self._lock:
            self._waiting = False

    @contextlib.contextmanager
    def stopped_on_error(self) -> Iterator[None]:
        """Around `model.fit`: if it raises, `cancel_background`, so that the runner's final
        page (written after) is the last."""
        try:
            yield
        except BaseException:
            self.cancel_background()
            raise

    def _write(self, above: bool) -> None:
        with self._lock:  # from here on, this write reads what every epoch so far wrote
            self._waiting = False
            self.written += 1
        try:  # never raised: the lane would stop, and the run fail at the next submit
            publish.write_run_page(self.run)
            if above:
                if (self.run.parent / layout.SWEEP_JSON).is_file():
                    publish.write_sweep_page_alone(self.run.parent)
                publish.refresh_results_above(self.run)
        except Exception as error:
            logger.warning(f"report page not written (live page): {type(error).__name__}: {error}")
