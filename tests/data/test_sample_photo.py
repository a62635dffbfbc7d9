"""sample_photo: scikit-learn's photos, gray or RGB, shrunk, through load_dataset."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.data import load_dataset
from convwatch.errors import DataError


def test_gray_china_shrunk_to_the_long_side():
    data = load_dataset("sample_photo", size=64)
    assert data.x_train.shape == (1, 43, 64, 1) and data.x_train.dtype == np.uint8
    assert data.full and "china.jpg" in data.source and "grayscale" in data.source
    np.testing.assert_array_equal(data.x_test, data.x_train)
    assert data.y_train.tolist() == [0]


def test_rgb_flower_at_full_size_and_bad_options():
    assert load_dataset("sample_photo", photo="flower", gray=False, size=None).x_train.shape == (
        1,
        427,
        640,
        3,
    )
    with pytest.raises(DataError, match="photo must be one of"):
        load_dataset("sample_photo", photo="moon")
    with pytest.raises(DataError, match="size must be"):
        load_dataset("sample_photo", size=4)
