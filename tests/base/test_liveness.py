"""The liveness rule: when a record that says `running` is a live run, and when it is dead.

Hand-built records and real processes (a child that exits, a zombie, this test process), with
`now` and `this_host` passed in where a test needs another time or another machine.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from convwatch.base import liveness
from convwatch.base.atomic import read_json, write_json
from convwatch.base.liveness import Heartbeat, judge, now_text
from convwatch.cli import main
from convwatch.errors import ConvwatchError
from convwatch.report.compare import compare_table, format_table
from convwatch.report.pages import write_results_index, write_run_report, write_sweep_report
from convwatch.report.reader import load_run
from convwatch.run.publish import refresh_pages_above

HOST = socket.gethostname()
MINUTE = 60.0


def _record(**fields):
    return {"name": "exp", "status": "running", **fields}


def _gone_pid() -> int:
    """The pid of a child that has exited and been reaped: nothing is there any more."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _ours(**fields):
    """A running record of this very process, on this host."""
    return _record(**{**liveness.identity(), "heartbeat": now_text(), **fields})


def test_this_live_process_on_this_host_is_running_however_old_its_heartbeat(tmp_path):
    verdict = judge(_ours(), tmp_path)
    assert verdict.status == "running" and not verdict.dead
    assert f"process {os.getpid()} on host {HOST} is alive" in verdict.reason
    later = judge(_ours(), tmp_path, now=time.time() + 60 * MINUTE)  # an hour without a beat
    assert later.status == "running" and "stopped with Ctrl-Z, or hung?" in later.reason


def test_a_gone_pid_on_this_host_is_dead_at_once_even_with_a_fresh_heartbeat(tmp_path):
    pid = _gone_pid()
    verdict = judge(_record(pid=pid, host=HOST, heartbeat=now_text()), tmp_path)
    assert verdict.dead and verdict.pid == pid and verdict.host == HOST
    assert verdict.reason.startswith(f"process {pid} on host {HOST} is gone; last heartbeat ")
    assert "(0 s ago)" in verdict.reason or "(1 s ago)" in verdict.reason


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="zombies and start times need /proc")
def test_a_zombie_and_a_reused_pid_count_as_gone(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        record = _record(pid=child.pid, host=HOST, heartbeat=now_text())
        assert judge(record, tmp_path).status == "running"  # alive; its start time unknown
        child.kill()
        deadline = time.monotonic() + 10
        while liveness.process_state(child.pid) != "gone" and time.monotonic() < deadline:
            time.sleep(0.01)  # killed, not reaped: a zombie until wait() below
        assert judge(record, tmp_path).dead
    finally:
        child.kill()
        child.wait()
    reused = _ours(process_start="1")  # this pid, but a process started at another time
    verdict = judge(reused, tmp_path)
    assert verdict.dead and "the pid now belongs to another process" in verdict.reason


def test_another_host_is_judged_by_its_heartbeat(tmp_path):
    now = time.time()
    fresh = _record(pid=4321, host="elsewhere", heartbeat=now_text(now - 30))
    verdict = judge(fresh, tmp_path, now=now)
    assert verdict.status == "running" and "process 4321 on host elsewhere" in verdict.reason
    stale = _record(pid=4321, host="elsewhere", heartbeat=now_text(now - 10 * MINUTE))
    verdict = judge(stale, tmp_path, now=now)
    assert verdict.dead
    assert "no sign of life from process 4321 on host elsewhere for more than 4 min" in (
        verdict.reason
    )
    assert "(10 min ago)" in verdict.reason
    # heartbeat.json, beaten between two run.json writes, is the newer sign of life
    write_json(tmp_path / "heartbeat.json", {"pid": 4321, "at": now_text(now - 5)})
    assert judge(stale, tmp_path, now=now).status == "running"
    write_json(tmp_path / "heartbeat.json", {"pid": 999, "at": now_text(now - 5)})
    assert judge(stale, tmp_path, now=now).dead  # another process's beat does not count


def test_a_legacy_record_without_heartbeat_is_judged_by_its_folders_files(tmp_path):
    write_json(tmp_path / "run.json", _record(host=HOST))
    (tmp_path / "history.csv").write_text("epoch,loss\n1,0.5\n")
    now = time.time()
    verdict = judge(_record(host=HOST), tmp_path, now=now)
    assert verdict.status == "running" and "holds no heartbeat" in verdict.reason
    for name in ("run.json", "history.csv"):
        os.utime(tmp_path / name, (now - 3600, now - 3600))
    (tmp_path / "index.html").write_text("a reader wrote this just now")
    verdict = judge(_record(host=HOST), tmp_path, now=now)
    assert verdict.dead and "holds no heartbeat (an older convwatch)" in verdict.reason
    assert "nothing in the folder changed since" in verdict.reason and "(60 min ago)" in (
        verdict.reason
    )


def test_the_threshold_comes_from_the_environment_and_the_runs_own_interval(tmp_path, monkeypatch):
    now = time.time()
    record = _record(pid=4321, host="elsewhere", heartbeat=now_text(now - 20))
    assert judge(record, tmp_path, now=now).status == "running"
    monkeypatch.setenv("CONVWATCH_DEAD_AFTER_S", "5")
    assert judge(record, tmp_path, now=now).dead
    record["heartbeat_every_s"] = 10  # a run that beats every 10 s is given 3 beats
    assert judge(record, tmp_path, now=now).status == "running"
    monkeypatch.setenv("CONVWATCH_DEAD_AFTER_S", "soon")
    with pytest.raises(ConvwatchError, match="CONVWATCH_DEAD_AFTER_S must be a number"):
        judge(record, tmp_path, now=now)


@pytest.mark.parametrize("status", ["completed", "failed", "interrupted", None])
def test_finished_records_are_taken_as_written(tmp_path, status):
    verdict = judge({"status": status, "pid": _gone_pid(), "host": HOST}, tmp_path)
    assert verdict.status == (status or "unknown") and verdict.reason == ""


@pytest.mark.parametrize(
    "fields",
    [
        {"pid": "12", "host": HOST, "heartbeat": 5},
        {"pid": True, "host": ["x"], "heartbeat": "yesterday"},
        {"pid": -1, "host": HOST, "process_start": {"a": 1}, "heartbeat_every_s": "x"},
        {"pid": 0, "host": None, "heartbeat": None},
    ],
)
def test_records_of_the_wrong_shape_are_judged_without_raising(tmp_path, fields):
    verdict = judge(_record(**fields), tmp_path)
    assert verdict.status in ("running", "dead") and verdict.pid is None
    assert judge([1, 2], tmp_path).status == "unknown"


def test_the_heartbeat_thread_beats_until_stopped_and_never_remakes_a_folder(tmp_path):
    beat = tmp_path / "heartbeat.json"
    with Heartbeat(tmp_path, every_s=0.02) as heartbeat:
        first = beat.stat().st_mtime_ns
        content = read_json(beat)
        assert content["pid"] == os.getpid() and content["host"] == HOST
        deadline = time.monotonic() + 10
        while beat.stat().st_mtime_ns == first and time.monotonic() < deadline:
            time.sleep(0.01)
        assert beat.stat().st_mtime_ns != first  # rewritten by the thread
    assert not beat.exists() and not heartbeat._thread.is_alive()

    gone = tmp_path / "moved"
    gone.mkdir()
    heartbeat = Heartbeat(gone, every_s=0.01).start()
    gone.joinpath("heartbeat.json").unlink()
    gone.rmdir()
    time.sleep(0.05)
    heartbeat.stop()
    assert not gone.exists()


# ----------------------------------------------------------------- what the readers show
def _dead_run(make_run, root, **record):
    pid = _gone_pid()
    fields = dict(pid=pid, host=HOST, heartbeat=now_text(time.time() - 300), checkpoint_epoch=2)
    run = make_run(root, status="running", omit=("metrics.json", "model.keras"), **fields, **record)
    (run / "checkpoint.keras").write_text("stand-in")
    return run, pid


def test_every_reader_shows_a_dead_run_with_its_reason(tmp_path, make_run, capsys):
    root = tmp_path / "results"
    run, pid = _dead_run(make_run, root)
    before = (run / "run.json").read_bytes()
    loaded = load_run(run)
    assert loaded.status == "dead" and loaded.recorded_status == "running"
    reason = f"process {pid} on host {HOST} is gone; last heartbeat "
    assert loaded.status_reason.startswith(reason) and "(5 min ago)" in loaded.status_reason
    assert any(p.startswith("dead: ") and "convwatch resume" in p for p in loaded.problems)

    text = format_table(compare_table([loaded]))
    assert text.splitlines()[2].split()[2] == "dead"
    assert f"{run.name}: dead: {reason}" in text
    assert main(["compare", str(root), "--format", "json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)["runs"]
    assert entry["status"] == "dead" and entry["recorded_status"] == "running"
    assert entry["status_reason"].startswith(reason)
    assert main(["compare", str(root), "--format", "csv"]) == 0
    assert ",dead," in capsys.readouterr().out

    page = write_run_report(run).read_text()
    assert "class='status status-dead'" in page and f"<b>dead:</b> {reason}" in page
    assert "dead (run.json says running)" in page and "after epoch 2" in page
    index = write_results_index(root).read_text()
    assert "class='status status-dead'" in index and reason in index
    assert (run / "run.json").read_bytes() == before  # readers never rewrite run.json


def test_a_sweep_point_listed_running_whose_run_died_shows_dead(tmp_path, make_run):
    sweep = tmp_path / "results" / "exp" / "20260101-000000-sweep-abc"
    done = make_run(sweep.parent, experiment=sweep.name, run_id="a")
    dead, pid = _dead_run(make_run, sweep.parent, experiment=sweep.name, run_id="b")
    points = [{"run": "a", "label": "1", "status": "completed"}]
    points.append({"run": "b", "label": "2", "status": "running"})
    write_json(sweep / "sweep.json", {"overrides": ["x=1,2"], "planned": 3, "runs": points})
    page = write_sweep_report(sweep).read_text()
    points_table = page[page.index("id='points'") : page.index("id='runs'")]
    assert "2 of 3 points started" in points_table
    assert (
        points_table.count("class='status status-dead'") == 1
        and "sweep.json says running" in points_table
    )
    assert f"process {pid} on host {HOST} is gone" in points_table
    assert done.name in points_table and dead.name in points_table


def test_resume_refuses_a_run_that_is_still_alive_naming_pid_and_host(tmp_path, make_run, capsys):
    me = liveness.identity()
    run = make_run(tmp_path, status="running", heartbeat=now_text(), checkpoint_epoch=1, **me)
    (run / "checkpoint.keras").write_text("stand-in")
    assert main(["resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"is still running (process {os.getpid()} on host {HOST} is alive" in err
    assert "stop it first" in err
    assert read_json(run / "run.json")["status"] == "running"


def test_after_a_resume_the_sweep_lists_the_point_as_its_run_stands(tmp_path, make_run):
    sweep = tmp_path / "results" / "exp" / "20260101-000000-sweep-abc"
    run = make_run(sweep.parent, experiment=sweep.name, run_id="b")  # completed by the resume
    points = [{"run": "b", "label": "2", "status": "running"}, {"run": "zz", "status": "failed"}]
    write_json(sweep / "sweep.json", {"runs": points})
    refresh_pages_above(run)
    assert [p["status"] for p in read_json(sweep / "sweep.json")["runs"]] == ["completed", "failed"]
    page = (sweep / "index.html").read_text()
    assert "class='status status-completed'" in page and "sweep.json says" not in page
