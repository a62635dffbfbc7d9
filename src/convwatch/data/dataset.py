"""The `Dataset` record every loader returns: uint8 arrays plus where they came from.

Normalisation is left to the experiment; the loader only says what it read and whether it is
the full dataset or a stand-in, so the runner can print it and record it in run.json.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset.

    Images are uint8 and always 4-D, channel last (N, H, W, C). For classifiers the targets are
    int64 class ids (N,); for "shapes" they are uint8 target images (N, H, W, 3).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    full: bool
    notes: tuple[str, ...] = ()
