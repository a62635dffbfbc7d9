"""Turns a loaded Dataset (uint8 images, integer labels) into the float arrays a model trains on.

Normalisation is the experiment's choice (`data.normalize`), so it lives here and not in the
loaders: `unit` divides by 255, `standard` subtracts the training set's mean and divides by its
standard deviation (the same statistics applied to the test set), `none` keeps raw 0-255 values.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from convwatch.data import Dataset, load_dataset
from convwatch.run.folder import RunFolder
from convwatch.run.record import write_record
from convwatch.run.spec import Data, Experiment

logger = logging.getLogger(__name__)


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


def prepare_data(
    experiment: Experiment, folder: RunFolder, record: dict[str, Any]
) -> tuple[Dataset, Arrays]:
    """The runner's data step: load the dataset `experiment.data` names (its subset drawn with
    the experiment's seed), say where it came from (in run.json and the log), and prepare it."""
    spec = experiment.data
    dataset = load_dataset(
        spec.name,
        limit=spec.limit,
        test_limit=spec.test_limit,
        seed=experiment.seed,
        **spec.options,
    )
    record.update(data_source=dataset.source, data_full=dataset.full)
    write_record(folder, record)
    logger.info(f"data: {dataset.source}")
    for note in dataset.notes:
        logger.info(f"data: {note}")
    return dataset, prepare(dataset, spec)


def targets_per_output(arrays: Arrays, outputs: int) -> Arrays:
    """For a model with several outputs (side-by-side branches): the same target on each."""
    if outputs < 2:
        return arrays
    return dataclasses.replace(
        arrays, y_train=(arrays.y_train,) * outputs, y_test=(arrays.y_test,) * outputs
    )
