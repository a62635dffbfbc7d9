"""The run-folder layout, and the one place that writes it: every file lands atomically.

A run folder is `<results>/<experiment>/<YYYYmmdd-HHMMSS>-<config hash>/` (see DESIGN.md). Each
file is written under a temporary name in the same folder and renamed into place, so a run that is
killed never leaves a half-written file behind, and a reader never sees one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from convwatch.errors import ConvwatchError

RUN_JSON = "run.json"
CONFIG_JSON = "config.json"
HISTORY_CSV = "history.csv"
METRICS_JSON = "metrics.json"
SUMMARY_TXT = "summary.txt"
MODEL_FILE = "model.keras"
TENSORBOARD_DIR = "tensorboard"
ARTIFACTS_DIR = "artifacts"


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def write_csv(
    path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str]
) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fieldnames), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return write_text(path, buffer.getvalue())


def write_figure(path: str | os.PathLike[str], figure: Any, dpi: int = 100) -> Path:
    """Save a matplotlib figure (PNG by the suffix) atomically, then close it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", dpi=dpi)
    finally:
        plt.close(figure)
    return write_bytes(path, buffer.getvalue())


def save_model(path: str | os.PathLike[str], model: Any) -> Path:
    """Save a Keras model in the native `.keras` format, atomically."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_csv(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


class RunFolder:
    """One run's folder: where each of its files goes, and writers for them."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    @classmethod
    def create(cls, parent: str | os.PathLike[str], config_hash: str) -> RunFolder:
        """Make a new, empty `<parent>/<timestamp>-<hash>` folder that no other run shares.

        `mkdir` without `exist_ok` is the lock: two runs started in the same second get
        `-2`, `-3`, ... suffixes instead of sharing a folder.
        """
        parent = Path(parent)
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConvwatchError(f"cannot create results folder {parent}: {error}") from error
        if not os.access(parent, os.W_OK):
            raise ConvwatchError(f"results folder {parent} is not writable")
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{config_hash}"
        for attempt in range(1, 1000):
            path = parent / (stem if attempt == 1 else f"{stem}-{attempt}")
            try:
                path.mkdir()
            except FileExistsError:
                continue
            return cls(path)
        raise ConvwatchError(f"could not create a unique run folder under {parent}")

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / TENSORBOARD_DIR

    def artifacts(self, name: str) -> Path:
        """The artifacts folder of one callback (or of the runner's own plots), created lazily."""
        folder = self.path / ARTIFACTS_DIR / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def write_json(self, name: str, obj: Any) -> Path:
        return write_json(self.path / name, obj)

    def write_text(self, name: str, text: str) -> Path:
        return write_text(self.path / name, text)

    def write_history(self, rows: Sequence[Mapping[str, Any]]) -> Path:
        fieldnames: list[str] = []
        for row in rows:
            fieldnames += [k for k in row if k not in fieldnames]
        return write_csv(self.path / HISTORY_CSV, rows, fieldnames)

    def save_model(self, model: Any) -> Path:
        return save_model(self.path / MODEL_FILE, model)

    def read_run(self) -> dict[str, Any]:
        return read_json(self.path / RUN_JSON)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"
