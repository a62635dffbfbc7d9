"""RunInputs: what the runner offers a capture that an experiment declares (`Capture.from_run`).

The runner knows the data, the photos and the run folder; a capture knows which of them it
needs. This record is the whole of what passes between them, so a capture never imports the
data loaders or the runner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def _no_photo(name: str, size: int | None) -> np.ndarray:
    raise ValueError(f"These RunInputs load no photos. Received: photo({name!r}, {size!r})")


@dataclass(frozen=True)
class RunInputs:
    """A run's data and folder, as the runner hands them to `Capture.from_run`.

    Attributes:
        out_dir: the capture's folder, `artifacts/<Name>/` of the run.
        x_train: the prepared training inputs, float `(N, H, W, C)`.
        x_test: the prepared test inputs.
        labels_test: integer class of each test input; None where the model is no classifier.
        y_test: the test targets as `fit` sees them (images for a reconstruction, a tuple for
            several outputs).
        class_names: the classes' names, or None.
        dataset: the dataset's name, e.g. "shapes".
        landmarks: named pixel positions the data offers, `name -> (row, col)` (the shapes
            data: each circle's centre); empty otherwise.
        photo: `photo(name_or_path, size)` -> float32 `(H, W, 3)` in [0, 1], a sample photo
            by name or an image file, its long side `size` pixels (None: its own size).
    """

    out_dir: Path
    x_train: np.ndarray
    x_test: np.ndarray
    labels_test: np.ndarray | None = None
    y_test: Any = None
    class_names: list[str] | None = None
    dataset: str = ""
    landmarks: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    photo: Callable[[str, int | None], np.ndarray] = _no_photo

    def labels(self, capture: str) -> np.ndarray:
        """`labels_test`, or a ValueError saying that `capture` needs labels the data lacks."""
        if self.labels_test is None:
            raise ValueError(
                f"{capture} needs class labels, and the {self.dataset or 'run'!r} data has none "
                "(its model is no classifier)."
            )
        return self.labels_test

    def labelled_test(self, capture: str, size: int | None) -> dict[str, Any]:
        """The first `size` test images (None: all) with their labels and the class names, as
        the keyword arguments of a capture that explains a classifier's predictions."""
        return {
            "labels": self.labels(capture)[:size],
            "class_names": self.class_names or None,
            "out_dir": self.out_dir,
        }

    def target_image(self) -> np.ndarray | None:
        """The first test target when the targets are images (a reconstruction), else None."""
        targets = self.y_test[0] if isinstance(self.y_test, tuple | list) else self.y_test
        return targets[0] if getattr(targets, "ndim", 0) == 4 else None
