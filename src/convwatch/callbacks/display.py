"""Captures in a notebook: every capture shows what it drew as the last line of a cell
(`_repr_html_`), and `live(...)` keeps one output of the running cell up to date during `fit`.

The HTML comes from the report's templates, escaped as the pages are, through the seam of
`convwatch.base.notebook` (the report registers its renderer there when `convwatch` is
imported; the callbacks sit below the report and cannot import it). Outside a notebook kernel
nothing is displayed and nothing raises: `live`'s display callback then does nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import keras

from convwatch.base.notebook import captures_html


class Displayed:
    """A mixin: a capture shows its latest pictures, with their captions, in a notebook."""

    def _repr_html_(self) -> str | None:
        return captures_html([self])


class Shown:
    """The HTML of several captures as one displayable object (what `live` updates)."""

    def __init__(self, captures: Sequence[Any]) -> None:
        self.captures = list(captures)

    def _repr_html_(self) -> str | None:
        return captures_html(self.captures)


def _kernel_display() -> Callable[..., Any] | None:
    """IPython's `display` where this process runs a notebook kernel, else None."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    return display if shell is not None and getattr(shell, "kernel", None) is not None else None


class LiveDisplay(keras.callbacks.Callback):
    """One output in the running cell showing `captures`' latest pictures, updated when their
    files change: at most every `every_seconds` during training, after each epoch, and once
    more when training ends (after the captures, so their last files are complete)."""

    def __init__(self, captures: Sequence[Any], every_seconds: float = 2.0) -> None:
        super().__init__()
        if every_seconds <= 0:
            raise ValueError(f"every_seconds must be > 0. Received: every_seconds={every_seconds}")
        self.captures = list(captures)
        self.every_seconds = every_seconds
        self.updates = 0  # how many times the output was drawn
        self._handle: Any = None
        self._seen: tuple = ()
        self._checked = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        display = _kernel_display()
        if display is not None:
            self._handle = display(Shown(self.captures), display_id=True)
            self.updates += 1
            self._seen = self._files()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._handle is not None and time.monotonic() - self._checked >= self.every_seconds:
            self._refresh()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._refresh()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._refresh()

    def _refresh(self) -> None:
        if self._handle is None:
            return
        self._checked = time.monotonic()
        files = self._files()
        if files != self._seen:
            self._seen = files
            self._handle.update(Shown(self.captures))
            self.updates += 1

    def _files(self) -> tuple:
        """(path, size, mtime) of every file the captures have written so far."""
        found = []
        for capture in self.captures:
            folder = getattr(capture, "out_dir", None)
            if folder is None or not os.path.isdir(folder):
                continue
            for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                if entry.is_file():
                    stat = entry.stat()
                    found.append((entry.path, stat.st_size, stat.st_mtime_ns))
        return tuple(found)


def live(*captures: keras.callbacks.Callback, every_seconds: float = 2.0) -> list[Any]:
    """The callbacks to give `fit` so that one output of the running notebook cell shows the
    captures' latest pictures as they are drawn: the captures, then a `LiveDisplay` of them.

    `model.fit(x, y, callbacks=live(FilterMaximization(x[:256], out_dir="run/atlas"),
    ActivationCapture(x[:8], out_dir="run/maps")))`. Outside a notebook kernel the display
    callback does nothing, so the same code runs unchanged in a script.
    """
    if not captures:
        raise ValueError("live() needs at least one capture.")
    return [*captures, LiveDisplay(captures, every_seconds)]
