"""The photographs scikit-learn ships (`china.jpg`, `flower.jpg`): real images, no download.

One photo as train and test alike, shaped (1, H, W, C): grayscale by default (the luminance
0.299 R + 0.587 G + 0.114 B, rounded), optionally centre-cropped to a square, and shrunk so
its long side is `size` pixels.
The target is the class id 0, so the classifier path of the runner accepts it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from convwatch.base.ranges import PhotoSize, Range, problem
from convwatch.data.dataset import Dataset
from convwatch.errors import DataError

PHOTOS = ("china", "flower")
SMALLEST = Range(16)  # a photo's long side in pixels; smaller shows nothing of it


def load(
    photo: str = "china", gray: bool = True, size: PhotoSize = 320, square: bool = False
) -> Dataset:
    """The sample photo `photo` as uint8 (1, H, W, 1) (or (1, H, W, 3) with `gray=False`);
    `square=True` first crops the centre square (then H = W = `size`)."""
    if photo not in PHOTOS:
        raise DataError(f"sample_photo: photo must be one of {', '.join(PHOTOS)}, got {photo!r}")
    check_size(size, "sample_photo: size")
    from sklearn.datasets import load_sample_image  # heavy (about a second): only when used

    image = Image.fromarray(load_sample_image(f"{photo}.jpg"))
    if square:
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    if size is not None and max(image.size) > size:
        scale = size / max(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    x = np.asarray(image.convert("L"))[..., None] if gray else np.asarray(image)
    x = x[np.newaxis].astype(np.uint8)
    y = np.zeros(1, np.int64)
    shape = "x".join(map(str, x.shape[1:3]))
    source = (
        f"scikit-learn sample photo {photo}.jpg, {shape}, {'grayscale' if gray else 'RGB'} "
        "(shipped with scikit-learn)"
    )
    return Dataset("sample_photo", x, y, x.copy(), y.copy(), ("photo",), source, True)


def check_size(size: Any, what: str = "size") -> None:
    """DataError unless `size` (a long side in pixels) is None or a whole number >= 16."""
    if problem(PhotoSize, size):
        raise DataError(f"{what} must be None or a whole number {SMALLEST}, got {size!r}")


def check_photo(photo: Any) -> str:
    """ "sample" for a name in PHOTOS, "file" for an existing file's path; else DataError."""
    if isinstance(photo, str) and photo in PHOTOS:
        return "sample"
    if isinstance(photo, str | os.PathLike) and os.path.isfile(photo):
        try:
            with Image.open(photo):  # reads the header only
                return "file"
        except (OSError, UnidentifiedImageError) as error:
            raise DataError(f"photo {photo!r} cannot be read as an image: {error}") from None
    raise DataError(
        f"photo must be one of {', '.join(PHOTOS)} (scikit-learn's sample photos) or the "
        f"path of an image file. Received: {photo!r}"
    )


def photo_image(photo: str, size: PhotoSize = 192, gray: bool = False) -> np.ndarray:
    """A picture as float32 `(H, W, 3)` (or `(H, W, 1)` with `gray=True`) in [0, 1]: one of
    PHOTOS by name, or any image file by path; shrunk so its long side is `size` pixels."""
    check_size(size)
    if check_photo(photo) == "sample":
        return load(photo, gray=gray, size=size).x_train[0].astype(np.float32) / 255.0
    try:
        image = Image.open(photo).convert("L" if gray else "RGB")
    except OSError as error:  # a file that changed since check_photo
        raise DataError(f"photo {photo!r} cannot be read as an image: {error}") from None
    if size is not None and max(image.size) > size:
        scale = size / max(image.size)
        width, height = (max(1, round(side * scale)) for side in image.size)
        image = image.resize((width, height))
    x = np.asarray(image, np.float32) / 255.0
    return x[..., None] if gray else x
