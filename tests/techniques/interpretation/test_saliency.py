"""saliency_map: the gradient of the class score lights up exactly the pixels the model reads."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.techniques import saliency_map


def test_saliency_is_nonzero_only_on_the_region_the_model_reads(region_model, region_mask):
    model = region_model
    images = np.random.default_rng(0).random((3, 8, 8, 1), dtype=np.float32)
    maps = saliency_map(model, images, classes=[0, 0, 1])
    assert maps.shape == (3, 8, 8)
    # Outside the region the score does not depend on the pixel at all: gradient exactly 0.
    assert np.all(maps[:, ~region_mask] == 0)
    assert np.all(maps[:, region_mask] > 0)


def test_saliency_matches_the_softmax_gradient_by_hand(region_model, region_mask):
    model = region_model
    image = np.full((1, 8, 8, 1), 0.1, np.float32)
    # p0 = sigmoid(z), z = 3 * (4 * 0.1); d p0 / d pixel = 3 p0 (1 - p0) on the region.
    p0 = 1 / (1 + np.exp(-1.2))
    maps = saliency_map(model, image, classes=[0])
    np.testing.assert_allclose(maps[0][region_mask], 3 * p0 * (1 - p0), rtol=1e-5)


def test_default_class_is_the_predicted_one_and_smoothgrad_keeps_the_region(
    region_model, region_mask
):
    model = region_model
    images = np.ones((2, 8, 8, 1), np.float32)  # class 0 wins (logit 12 vs 0)
    np.testing.assert_array_equal(
        saliency_map(model, images), saliency_map(model, images, classes=[0, 0])
    )
    smooth = saliency_map(model, images, smooth_samples=8, seed=1)
    assert smooth.shape == (2, 8, 8)
    assert np.all(smooth[:, ~region_mask] == 0) and np.all(smooth[:, region_mask] > 0)


def test_bad_arguments_are_clear_errors(tiny_cnn, images):
    with pytest.raises(ValueError, match="one class per image"):
        saliency_map(tiny_cnn, images[0][:2], classes=[0])
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        saliency_map(tiny_cnn, images[0][0])
    with pytest.raises(ValueError, match="smooth_samples"):
        saliency_map(tiny_cnn, images[0][:1], smooth_samples=-1)
