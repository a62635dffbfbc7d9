"""occlusion_map: hiding the region the model reads costs the class; hiding elsewhere, nothing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import binary_dilation

from convwatch.techniques import occlusion_map
from convwatch.techniques.occlusion import patch_masks


def test_patch_masks_tile_the_image_row_by_row(region_model, region_mask):
    masks = patch_masks(5, 6, patch=2, stride=2)
    assert masks.shape == (2 * 3, 5, 6)  # tops 0, 2; lefts 0, 2, 4
    assert masks[1, 0:2, 2:4].all() and masks[1].sum() == 4
    with pytest.raises(ValueError, match="patch must be"):
        patch_masks(5, 5, patch=6, stride=1)


def test_occlusion_lights_up_the_region_and_only_near_it(region_model, region_mask):
    model = region_model
    images = np.ones((2, 8, 8, 1), np.float32)
    heat = occlusion_map(model, images, classes=[0, 0], patch=2, stride=1, batch_size=49)
    assert heat.shape == (2, 8, 8)
    # A pixel whose covering patches never touch the region: no patch there changes anything.
    near = binary_dilation(region_mask, structure=np.ones((3, 3)))
    assert np.allclose(heat[:, ~near], 0, atol=1e-6)
    assert np.all(heat[:, region_mask] > 0.1)
    # The pixels of the region are the hottest: every patch covering them hides part of it.
    assert np.all(heat[:, region_mask].min(axis=1) >= heat[:, ~region_mask].max(axis=1))


def test_occlusion_drop_by_hand_with_one_pixel_patches(region_model, region_mask):
    model = region_model
    image = np.full((1, 8, 8, 1), 0.25, np.float32)
    heat = occlusion_map(model, image, classes=[0], patch=1, fill=0.0)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731 (p0 of the 2-class softmax)
    # Hiding one region pixel takes class 0's logit from 3 x 4 x 0.25 = 3 to 2.25.
    np.testing.assert_allclose(heat[0][region_mask], sigmoid(3) - sigmoid(2.25), rtol=1e-4)
    assert np.all(heat[0][~region_mask] == 0)
    # The predicted class is the default; batch size does not change the answer.
    np.testing.assert_allclose(
        occlusion_map(model, np.repeat(image, 3, 0), patch=3, batch_size=10)[2],
        occlusion_map(model, image, classes=[0], patch=3)[0],
        atol=1e-6,
    )
