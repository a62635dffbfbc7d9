"""high_frequency_share: ~0.8 for white noise, small for smooth patterns, 0 for a constant."""

import numpy as np
import pytest

from convwatch.techniques import high_frequency_share


def test_white_noise_is_about_four_fifths():
    noise = np.random.default_rng(0).normal(size=(200, 10, 10, 1))
    share = high_frequency_share(noise)
    # White noise spreads evenly over the frequency square [-0.5, 0.5)^2; the part beyond a
    # radius of 0.25 is 1 - pi / 16 = 0.80 of it (on a 10x10 grid: 79 of the 99 non-zero
    # frequencies, as the mean is removed).
    assert abs(share.mean() - 79 / 99) < 0.02
    assert share.min() > 0.6


def test_smooth_patterns_are_low_and_checkerboards_high():
    rows, cols = np.mgrid[0:10, 0:10]
    blob = np.exp(-((rows - 4.5) ** 2 + (cols - 4.5) ** 2) / 8.0)
    ramp = rows / 9.0
    stroke = np.exp(-((cols - rows) ** 2) / 4.0)  # a soft diagonal stroke
    checker = (rows + cols) % 2
    share = high_frequency_share(np.stack([blob, ramp, stroke, checker]))
    assert np.all(share[:3] < 0.2) and share[3] > 0.99
    assert high_frequency_share(np.full((1, 5, 5), 0.5))[0] == 0  # nothing to share


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="pictures"):
        high_frequency_share(np.zeros((5, 5)))
