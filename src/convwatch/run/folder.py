"""One run's folder on disk: made unique at the start, then written file by file, atomically."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from convwatch.base.atomic import read_json, save_model, write_csv, write_json, write_text
from convwatch.base.layout import (
    ARTIFACTS_DIR,
    HISTORY_CSV,
    MODEL_FILE,
    RUN_JSON,
    TENSORBOARD_DIR,
)
from convwatch.errors import ConvwatchError


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
