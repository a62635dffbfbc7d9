"""`load_dataset` names and options: unknown ones are errors that list the valid ones."""

import pytest

from convwatch.data import DATASETS, load_dataset
from convwatch.errors import DataError


def test_names():
    assert DATASETS == ("fashion_mnist", "mnist", "shapes", "sample_photo")


def test_unknown_name_lists_valid():
    with pytest.raises(DataError, match="fashion_mnist, mnist, shapes"):
        load_dataset("cifar10")


def test_unknown_option_named(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVWATCH_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DataError, match=r"'flatten'.*'mnist'.*\(none\)"):
        load_dataset("mnist", flatten=True)
