"""Lane: background tasks run in order, bounded, with their errors raised on the caller's thread."""

from __future__ import annotations

import threading
import time

import pytest

from convwatch.base.background import Lane, background_enabled


def test_tasks_run_in_order_off_the_callers_thread():
    lane = Lane("test", inline=False)
    seen: list[tuple[int, str]] = []
    for i in range(20):
        lane.submit(lambda i=i: seen.append((i, threading.current_thread().name)))
    lane.drain()
    assert [i for i, _ in seen] == list(range(20))
    assert all(name == "convwatch-test" for _, name in seen)
    assert lane.pending == 0


def test_no_thread_is_left_once_the_work_is_done():
    lane = Lane("idle", inline=False)
    lane.submit(time.sleep, 0.01)
    lane.drain()
    deadline = time.monotonic() + 2
    while any(t.name == "convwatch-idle" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the worker thread outlived its work"
        time.sleep(0.01)


def test_submit_waits_while_the_lane_is_full():
    lane = Lane("full", max_pending=2, inline=False)
    release = threading.Event()
    lane.submit(release.wait)
    lane.submit(lambda: None)
    submitted = threading.Event()
    third = threading.Thread(target=lambda: (lane.submit(lambda: None), submitted.set()))
    third.start()
    assert not submitted.wait(0.2), "a third task got in while two were pending"
    assert lane.pending == 2
    release.set()
    assert submitted.wait(2)
    third.join()
    lane.drain()


def test_the_first_error_stops_the_lane_and_is_raised_with_its_name():
    lane = Lane("Broken", inline=False)
    ran: list[int] = []
    gate = threading.Event()

    def fail():
        gate.wait()
        raise OSError("disk full")

    lane.submit(fail)
    lane.submit(ran.append, 1)  # queued behind the failure: dropped by it
    gate.set()
    with pytest.raises(OSError, match="disk full") as caught:
        lane.drain()
    assert ran == []
    assert any("Broken's background work" in note for note in caught.value.__notes__)
    lane.submit(ran.append, 3)  # raised once: the lane works again
    lane.drain()
    assert ran == [3]


def test_cancel_drops_waiting_tasks_and_lets_the_running_one_finish():
    lane = Lane("stop", max_pending=4, inline=False)
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def slow():
        started.set()
        release.wait()
        done.append("running one")

    lane.submit(slow)
    lane.submit(done.append, "waiting one")
    assert started.wait(2)
    threading.Timer(0.1, release.set).start()
    lane.cancel()
    assert done == ["running one"]
    assert lane.pending == 0


def test_inline_lanes_run_at_submit(monkeypatch):
    monkeypatch.setenv("CONVWATCH_BACKGROUND", "0")
    assert not background_enabled()
    lane = Lane("inline")
    seen: list[str] = []
    lane.submit(lambda: seen.append(threading.current_thread().name))
    assert seen == [threading.current_thread().name]


def test_max_pending_must_be_positive():
    with pytest.raises(ValueError, match="max_pending must be at least 1"):
        Lane("x", max_pending=0)
