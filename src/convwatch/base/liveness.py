"""Whether a run whose run.json says `running` is still alive, and the heartbeat that tells.

run.json's status is what the run last wrote. A run killed by SIGKILL or a power cut never writes
again, so `running` alone cannot be trusted. While a run goes, the runner records in run.json its
`pid`, `host`, `process_start` and `heartbeat` (refreshed with every run.json write, at least at
each epoch end), and a daemon thread (`Heartbeat`) rewrites the tiny `heartbeat.json` beside it
every `HEARTBEAT_EVERY_S` seconds, also in the middle of a long epoch.

The thread has its own file rather than a share of run.json: the training thread changes the run
record between its writes, so a second writer of run.json would need every change of the record
made under one lock, and a slow disk under that lock would stall training. With its own file,
run.json keeps one writer and each beat rewrites a few dozen bytes atomically
(`convwatch.base.atomic`).

`judge` is the one rule every reader applies (compare, the report pages, `convwatch resume`); no
reader ever rewrites run.json. For a record that says `running`:

1. Recorded on this host with a pid: the process gone (no such pid, a zombie, or a pid that now
   belongs to a process started at another time than the run's) is `dead` at once. The run's own
   process still there is `running`, however old its heartbeat (stopped with Ctrl-Z, or busy).
2. Otherwise (another host, or a pid that cannot be checked): the newest heartbeat, of run.json's
   and heartbeat.json's, older than `dead_after_s()` (`DEAD_AFTER_S`, or
   `$CONVWATCH_DEAD_AFTER_S`, and never less than three of the run's heartbeat intervals) is
   `dead`; a fresher one is `running`.
3. A record without a heartbeat (written by an older convwatch): the newest modification time of
   the folder's files (its own index.html left out) stands for the heartbeat.

Every other status (completed, failed, interrupted) is taken as recorded.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from convwatch.base import atomic
from convwatch.errors import ConvwatchError

HEARTBEAT_JSON = "heartbeat.json"
HEARTBEAT_EVERY_S = 10.0  # how often a running run rewrites heartbeat.json
DEAD_AFTER_S = 240.0  # a running record with no sign of life for this long is dead
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # as run.json's started/ended
_PROC = Path("/proc")
_NOT_SIGNS_OF_LIFE = ("index.html",)  # written by readers, not by the run


def _seconds(variable: str, default: float) -> float:
    raw = os.environ.get(variable)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConvwatchError(f"{variable} must be a number of seconds above 0. Received: {raw!r}")
    return value


def heartbeat_every_s() -> float:
    """Seconds between two beats: `HEARTBEAT_EVERY_S`, or `$CONVWATCH_HEARTBEAT_EVERY_S`."""
    return _seconds("CONVWATCH_HEARTBEAT_EVERY_S", HEARTBEAT_EVERY_S)


def dead_after_s() -> float:
    """Seconds without a heartbeat after which a running record is dead: `DEAD_AFTER_S`, or
    `$CONVWATCH_DEAD_AFTER_S`."""
    return _seconds("CONVWATCH_DEAD_AFTER_S", DEAD_AFTER_S)


def now_text(when: float | None = None) -> str:
    return time.strftime(TIME_FORMAT, time.localtime(when))


def parse_time(value: Any) -> float | None:
    """A run.json time (`2026-03-01T12:00:00+0100`) as seconds since the epoch, or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, TIME_FORMAT).timestamp()
    except ValueError:
        return None


# ---------------------------------------------------------------------------- this process
def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks after boot) of `pid` from /proc, or None without /proc.
    Raises ProcessLookupError when /proc has no such process."""
    if not _PROC.is_dir():
        return None
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except FileNotFoundError:
        raise ProcessLookupError(pid) from None
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # after "pid (command name) "
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


def identity() -> dict[str, Any]:
    """What run.json records about the process running it: `pid`, `host` and `process_start`
    (Linux: its start time in clock ticks after boot, which tells a reused pid; else None)."""
    try:
        stat = _proc_stat(os.getpid())
    except ProcessLookupError:
        stat = None
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "process_start": stat[1] if stat else None,
    }


def process_state(pid: int, start: str | None = None) -> str:
    """What is at `pid` on this host: "same" (the process that started at `start`), "exists"
    (something, unverifiable without /proc or `start`), "reused" (a process started at another
    time) or "gone" (nothing, or a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        pass  # there is a process, another user's
    except OSError:
        return "gone"
    try:
        stat = _proc_stat(pid)
    except ProcessLookupError:
        return "gone"
    if stat is None:
        return "exists"
    state, ticks = stat
    if state in ("Z", "X"):  # killed, not yet reaped by its parent
        return "gone"
    if start is None:
        return "exists"
    return "same" if ticks == start else "reused"


# ---------------------------------------------------------------------------- the heartbeat
class Heartbeat:
    """Rewrites `<folder>/heartbeat.json` (pid, host, time) now and every `every_s` seconds
    from a daemon thread, until `stop()`, which removes the file.

    Args:
        folder: the run folder.
        every_s: seconds between beats. Defaults to `heartbeat_every_s()`.

    Example:
        >>> with Heartbeat("results/exp/run"):  # doctest: +SKIP
        ...     model.fit(x, y)
    """

    def __init__(self, folder: str | os.PathLike[str], every_s: float | None = None) -> None:
        self.path = Path(folder) / HEARTBEAT_JSON
        self.every_s = heartbeat_every_s() if every_s is None else every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._identity = identity()

    def beat(self) -> None:
        """Write the file now. A full disk is tried again at the next beat; a folder that is no
        longer there (removed, moved) is never made again."""
        if not self.path.parent.is_dir():
            return
        with contextlib.suppress(OSError):
            atomic.write_json(
                self.path, {**self._identity, "at": now_text(), "every_s": self.every_s}
            )

    def start(self) -> Heartbeat:
        self.beat()
        self._thread = threading.Thread(target=self._run, name="convwatch-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.beat()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------- the rule
@dataclass(frozen=True)
class Verdict:
    """What a reader makes of a run record: `status` is "dead" for a running record whose run
    is gone, else the recorded status; `reason` says why in words ("" when there is nothing to
    say); `last_seen` is the newest sign of life (seconds since the epoch) or None."""

    status: str
    reason: str = ""
    pid: int | None = None
    host: str | None = None
    last_seen: float | None = None

    @property
    def dead(self) -> bool:
        return self.status == "dead"


def span(seconds: float) -> str:
    """A length of time as a person says it: "40 s", "5 min", "3.2 h", "12 days"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def ago(seconds: float) -> str:
    """Says "5 min ago"; a time ahead of now (another host's clock) says so."""
    return "in the future (the clocks differ?)" if seconds < 0 else f"{span(seconds)} ago"


def _heartbeat_file(folder: Path, pid: int | None) -> float | None:
    """The time in heartbeat.json, if it is this record's process's (not a link, not another's)."""
    path = folder / HEARTBEAT_JSON
    if path.is_symlink() or not path.is_file():
        return None
    try:
        beat = atomic.read_json(path)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(beat, dict) or (pid is not None and beat.get("pid") != pid):
        return None
    return parse_time(beat.get("at"))


def newest_change(folder: Path) -> float | None:
    """The newest modification time of the files in `folder` and its subfolders (hidden
    temporaries, links and the reader-written index.html left out), or None."""
    newest = None
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(root) / name
            if name.startswith(".") or (root == str(folder) and name in _NOT_SIGNS_OF_LIFE):
                continue
            try:
                if path.is_symlink():
                    continue
                mtime = path.stat().st_mtime
            except OSError:
                continue
            newest = mtime if newest is None else max(newest, mtime)
    return newest


def judge(
    record: Any,
    folder: str | os.PathLike[str],
    *,
    now: float | None = None,
    this_host: str | None = None,
) -> Verdict:
    """What a reader makes of `record` (a run.json's content) in `folder`; see the module's
    docstring for the rule. `now` and `this_host` are for tests."""
    record = record if isinstance(record, dict) else {}
    status = record.get("status")
    if status != "running":
        return Verdict(str(status or "unknown"))
    folder = Path(folder)
    now = time.time() if now is None else now
    this_host = socket.gethostname() if this_host is None else this_host
    pid = record.get("pid")
    pid = pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None
    host = record.get("host") if isinstance(record.get("host"), str) else None
    start = record.get("process_start")
    start = str(start) if isinstance(start, str | int) and not isinstance(start, bool) else None
    beats = [parse_time(record.get("heartbeat")), _heartbeat_file(folder, pid)]
    last = max((b for b in beats if b is not None), default=None)
    if last is not None:
        seen = f"last heartbeat {now_text(last)} ({ago(now - last)})"
    else:  # an older convwatch wrote no heartbeat: the folder's files stand for one
        last = newest_change(folder)
        seen = "run.json holds no heartbeat (an older convwatch)"
        if last is not None:
            seen += f"; nothing in the folder changed since {now_text(last)} ({ago(now - last)})"
    every = record.get("heartbeat_every_s")
    every = float(every) if isinstance(every, int | float) and math.isfinite(every) else 0.0
    limit = max(dead_after_s(), 3 * every)
    stale = last is not None and now - last > limit
    who = f"process {pid} on host {host or 'unknown'}" if pid is not None else ""

    def verdict(state: str, reason: str) -> Verdict:
        return Verdict(state, reason, pid, host, last)

    if pid is not None and host is not None and host == this_host:
        state = process_state(pid, start)
        if state == "gone":
            return verdict("dead", f"{who} is gone; {seen}")
        if state == "reused":
            return verdict(
                "dead", f"{who} is gone (the pid now belongs to another process); {seen}"
            )
        if state == "same":
            note = " (none for that long: stopped with Ctrl-Z, or hung?)" if stale else ""
            return verdict("running", f"{who} is alive; {seen}{note}")
    where = who or (f"host {host}" if host else "")
    if stale:
        return verdict(
            "dead", f"no sign of life{' from ' + where if where else ''} for more than "
            f"{span(limit)}; {seen}",
        )  # fmt: skip
    return verdict("running", f"{where}: {seen}" if where else seen)
