"""Turns a loaded Dataset (uint8 images, integer labels) into the float arrays a model trains on.

Normalisation is the experiment's choice (`data.normalize`), so it lives here and not in the
loaders: `unit` divides by 255, `standard` subtracts the training set's mean and divides by its
standard deviation (the same statistics applied to the test set), `none` keeps raw 0-255 values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convwatch.data import Dataset
from convwatch.run.spec import Data


@dataclass(frozen=True)
class Arrays:
    """Model-ready arrays: float32 inputs, targets, and the integer labels kept for analysis."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    labels_train: np.ndarray
    labels_test: np.ndarray


def normalize(x: np.ndarray, how: str, reference: np.ndarray) -> np.ndarray:
    """Scale uint8 images as `how` says, with statistics taken from `reference` (the train set)."""
    x = x.astype("float32")
    if how == "unit":
        return x / 255.0
    if how == "standard":
        ref = reference.astype("float32")
        return (x - ref.mean()) / max(float(ref.std()), 1e-6)
    return x


def prepare(dataset: Dataset, data: Data) -> Arrays:
    """Model-ready arrays for `dataset` as `data` declares them."""
    x_train = normalize(dataset.x_train, data.normalize, dataset.x_train)
    x_test = normalize(dataset.x_test, data.normalize, dataset.x_train)
    if dataset.y_train.ndim > 1:  # image targets (reconstruction): scaled like the inputs
        y_train = normalize(dataset.y_train, data.normalize, dataset.x_train)
        y_test = normalize(dataset.y_test, data.normalize, dataset.x_train)
    elif data.one_hot:
        classes = len(dataset.class_names) or int(dataset.y_train.max()) + 1
        y_train = np.eye(classes, dtype="float32")[dataset.y_train]
        y_test = np.eye(classes, dtype="float32")[dataset.y_test]
    else:
        y_train, y_test = dataset.y_train, dataset.y_test
    return Arrays(x_train, y_train, x_test, y_test, dataset.y_train, dataset.y_test)
