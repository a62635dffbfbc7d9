"""The live page: while a run goes, its index.html is rewritten after every epoch and reloads
itself; once the run ends, its page has no reload. Writes coalesce and never hold training up,
and a fit that raises leaves the runner's final page as the last one written."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import keras
import pytest

from convwatch import Compile, Data, Experiment, Fit, Optimizer, RunFailed, run_experiment
from convwatch.base import atomic
from convwatch.report import pages
from convwatch.run import fit, live_page
from tests.tiny import tiny_classifier

LIVE = Experiment(
    name="live",
    description="tiny classifier whose page is watched while it trains",
    build_model=tiny_classifier,
    data=Data(name="mnist", limit=200, test_limit=100),
    compile=Compile(optimizer=Optimizer("adam", 1e-2)),
    fit=Fit(epochs=2, batch_size=50),
    seed=3,
)
REFRESH_TAG = "<meta http-equiv='refresh'"
PAGE_WAIT_S = 15.0


class AtEpochBegin(keras.callbacks.Callback):
    """Calls `fn()` on the training thread when epoch `epoch` (1-based) begins: the run holds
    there, mid-run, for as long as `fn` takes."""

    def __init__(self, epoch: int, fn: Callable[[], None]) -> None:
        super().__init__()
        self.epoch, self.fn = epoch, fn

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 == self.epoch:
            self.fn()


def hold_at_epoch_begin(monkeypatch, epoch: int, fn: Callable[[Path], None]) -> None:
    """Every run fitted from now on in this test calls `fn(run folder)` as `epoch` begins (a
    test-only callback after the experiment's captures, before the live page)."""
    original = fit.build_callbacks

    def build(names, arrays, dataset, folder):
        hold = AtEpochBegin(epoch, lambda: fn(folder.path))
        return [*original(names, arrays, dataset, folder), hold]

    monkeypatch.setattr(fit, "build_callbacks", build)


def page_showing(run: Path, text: str, timeout: float = PAGE_WAIT_S) -> str:
    """`<run>/index.html` once it holds `text` (the live page is written in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        page = run / "index.html"
        current = page.read_text() if page.is_file() else ""
        if text in current:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"{page} never showed {text!r}; it holds:\n{current[:3000]}")
        time.sleep(0.05)


def test_the_page_is_live_while_the_run_goes_and_final_after(tmp_path, monkeypatch, make_run):
    root = tmp_path / "results"
    make_run(root, "older", "20260101-000000-old0000", started="2026-01-01T00:00:00+0000")
    pages.write_results_index(root)  # an index above, for the live run to appear in
    seen: dict[str, str] = {}

    def look(run: Path) -> None:
        seen["page"] = page_showing(run, "1 of 2 epochs done")
        seen["index"] = page_showing(root, f">{run.name}<")

    hold_at_epoch_begin(monkeypatch, 2, look)
    run = run_experiment(LIVE, results_dir=root)

    live = seen["page"]
    assert "status-running" in live and f"{REFRESH_TAG} content='10'>" in live
    assert "this page reloads every 10 s while the run is running; 1 of 2 epochs done" in live
    assert live.count("<title>train, epoch ") == 2  # the loss and accuracy charts: 1 point each
    assert "<title>train, epoch 1: " in live and "epoch 2: " not in live
    assert "while the run is still going" in live  # metrics.json, model.keras: not yet
    index = seen["index"]
    assert REFRESH_TAG in index and "status-running" in index
    assert index.index(run.name) < index.index("20260101-000000-old0000")  # running first

    final = (run / "index.html").read_text()
    assert "status-completed" in final and "2 of 2" in final and "<title>train, epoch 2: " in final
    assert REFRESH_TAG not in final and "this page reloads" not in final
    assert REFRESH_TAG not in (root / "index.html").read_text()


def test_a_slow_page_writer_gets_one_write_waiting_at_most(tmp_path, monkeypatch):
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_page(run):
        calls.append(run)
        started.set()
        assert release.wait(10)

    monkeypatch.setattr(live_page.publish, "write_run_page", slow_page)
    monkeypatch.setattr(live_page.publish, "refresh_results_above", lambda run: None)
    monkeypatch.setenv("CONVWATCH_BACKGROUND", "1")  # a lane, even where tests run inline
    live = live_page.LivePage(tmp_path)
    live.on_train_begin()
    assert started.wait(10)  # the first write runs (and hangs)
    start = time.monotonic()
    for epoch in range(20):
        live.on_epoch_end(epoch)
        assert live.lane.pending <= 2
    assert time.monotonic() - start < 0.5  # the training thread never waited
    assert (live.written, live.coalesced) == (1, 19)  # one queued behind it, 19 folded into it
    release.set()
    live.on_train_end()
    assert live.written == 2 and len(calls) == 2 and live.lane.pending == 0
    live.on_epoch_end(20)  # nothing waits any more: a new epoch end writes again
    live.on_train_end()
    assert live.written == 3


def test_a_page_writer_that_raises_never_stops_the_run(tmp_path, monkeypatch, caplog):
    def broken(run):
        raise OSError("disk full")

    monkeypatch.setattr(live_page.publish, "write_run_page", broken)
    live = live_page.LivePage(tmp_path)
    with caplog.at_level(logging.WARNING, logger="convwatch"):
        live.on_train_begin()
        for epoch in range(3):
            live.on_epoch_end(epoch)
        live.on_train_end()  # raises nothing
    assert "report page not written (live page): OSError: disk full" in caplog.text


def test_a_fit_that_raises_leaves_the_final_page_last(tmp_path, monkeypatch):
    """A live write that read the folder mid-run and landed late would put a running page with
    a reload over the failed run's final one: a fit that raises cancels the live page first."""
    original = live_page.publish.write_run_page

    def late_when_live(run):
        if not threading.current_thread().name.startswith(f"convwatch-{live_page.LANE}"):
            return original(run)  # the runner's own final page
        text = pages.render_run(pages.load_run(run))  # read while the run still goes...
        time.sleep(0.5)
        atomic.write_text(Path(run) / "index.html", text)  # ...and written late

    monkeypatch.setattr(live_page.publish, "write_run_page", late_when_live)

    def fail(run: Path) -> None:
        page_showing(run, "status-running")
        raise RuntimeError("stopped at epoch 2 <on purpose>")

    hold_at_epoch_begin(monkeypatch, 2, fail)
    with pytest.raises(RunFailed):
        run_experiment(LIVE, results_dir=tmp_path)
    (run,) = (tmp_path / "live").iterdir()
    time.sleep(0.6)  # a live write still on its way would have landed by now
    page = (run / "index.html").read_text()
    assert "status-failed" in page and "stopped at epoch 2 &lt;on purpose&gt;" in page
    assert REFRESH_TAG not in page
