"""The synthetic "shapes" image of SEEDS 000: red, green and blue circles on white, in numpy.

Always available (no download); the input and target of the one-layer reconstruction runs. The
"complicated" drawing adds straight black edges and a rectangle's corners over the circles,
never through a circle's centre, so the tracked centre pixel keeps its pure colour.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np

from convwatch.base.ranges import Range, problem
from convwatch.data.dataset import Dataset
from convwatch.errors import DataError

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}
CENTRES = {"red": (0.30, 0.30), "green": (0.30, 0.70), "blue": (0.70, 0.50)}  # fractions of size
RADIUS = 0.15  # fraction of size; the circles never touch
VARIANTS = ("simple", "complicated")
TARGETS = ("same", "swap_colors", "complicated")
SIZES = (16, 1024)
Size = Annotated[int, Range(*SIZES)]  # the image's side in pixels
# Black segments (row0, col0, row1, col1) as fractions of size: two edges across the circles,
# a diagonal, and the four corners of a rectangle around the blue circle.
LINES = [(0.42, 0.05, 0.42, 0.95), (0.05, 0.58, 0.95, 0.58), (0.05, 0.40, 0.45, 0.05)]
CORNER_BOX, CORNER_ARM = (0.50, 0.28, 0.92, 0.72), 0.10


def shape_centres(size: int = 64) -> dict[str, tuple[int, int]]:
    """The (row, col) pixel at the centre of each circle: "red", "green", "blue"."""
    return {
        name: (round(r * (size - 1)), round(c * (size - 1))) for name, (r, c) in CENTRES.items()
    }


def _segments() -> list[tuple[float, float, float, float]]:
    top, left, bottom, right = CORNER_BOX
    corners = []
    for row, col, down, across in ((top, left, 1, 1), (top, right, 1, -1),
                                   (bottom, left, -1, 1), (bottom, right, -1, -1)):  # fmt: skip
        corners.append((row, col, row, col + across * CORNER_ARM))
        corners.append((row, col, row + down * CORNER_ARM, col))
    return LINES + corners


def draw(size: int = 64, complicated: bool = False) -> np.ndarray:
    """The RGB uint8 image (size, size, 3): white, three circles, optionally the black lines."""
    image = np.full((size, size, 3), 255, dtype=np.uint8)
    rows, cols = np.mgrid[0:size, 0:size]
    for name, (row, col) in shape_centres(size).items():
        image[(rows - row) ** 2 + (cols - col) ** 2 <= (RADIUS * size) ** 2] = COLOURS[name]
    if complicated:
        width = max(1, size // 32)
        for r0, c0, r1, c1 in _segments():
            steps = np.linspace(0.0, 1.0, 4 * size)
            r = np.round((r0 + (r1 - r0) * steps) * (size - 1)).astype(int)
            c = np.round((c0 + (c1 - c0) * steps) * (size - 1)).astype(int)
            for dr in range(width):
                for dc in range(width):
                    image[np.clip(r + dr, 0, size - 1), np.clip(c + dc, 0, size - 1)] = 0
    return image


def swap_colors(image: np.ndarray) -> np.ndarray:
    """Permute the primaries R→G→B→R: red becomes green, green blue, blue red."""
    return image[..., [2, 0, 1]].copy()


def _choice(option: str, value: object, valid: tuple[str, ...]) -> str:
    if value not in valid:
        raise DataError(
            f"shapes: {option}={value!r} is not valid; valid values: {', '.join(valid)}"
        )
    return str(value)


def load(size: Size = 64, variant: str = "simple", target: str = "same") -> Dataset:
    """One input image and its target, as train and test alike (each shaped (1, H, W, 3))."""
    if problem(Size, size):
        raise DataError(
            f"shapes: size must be a whole number from {SIZES[0]} to {SIZES[1]}, got {size!r}"
        )
    variant = _choice("variant", variant, VARIANTS)
    target = _choice("target", target, TARGETS)
    image = draw(size, complicated=variant == "complicated")
    if target == "same":
        wanted = image
    elif target == "swap_colors":
        wanted = swap_colors(image)
    else:
        wanted = draw(size, complicated=True)
    x, y = image[np.newaxis], wanted[np.newaxis]
    source = (
        f"synthetic shapes, {size}x{size} RGB, variant={variant}, target={target} (made in numpy)"
    )
    return Dataset("shapes", x, y, x.copy(), y.copy(), (), source, True)
