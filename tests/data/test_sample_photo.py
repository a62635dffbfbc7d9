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


def test_photo_image_by_name_or_by_path(tmp_path):
    from PIL import Image

    from convwatch.data import photo_image

    china = photo_image("china", size=96)
    assert china.shape == (64, 96, 3) and china.dtype == np.float32
    assert china.min() >= 0.0 and china.max() <= 1.0 and china.max() > 0.5
    pixels = np.zeros((40, 80, 3), np.uint8)
    pixels[:, 40:] = 255  # right half white
    Image.fromarray(pixels).save(tmp_path / "half.png")
    gray = photo_image(str(tmp_path / "half.png"), size=20, gray=True)
    assert gray.shape == (10, 20, 1)
    assert gray[:, :8].max() == 0.0 and gray[:, 12:].min() == 1.0
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(DataError, match="cannot be read as an image"):
        photo_image(str(tmp_path / "notes.txt"))
    with pytest.raises(DataError, match="photo must be one of china, flower"):
        photo_image("missing.jpg")
