"""occlusion_map: hiding the region the model reads costs the class; hiding elsewhere, nothing;
a patch of the background's value on the background changes nothing, a grey one may."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import binary_dilation

from convwatch.techniques import background_value, occlusion_map
from convwatch.techniques.occlusion import patch_masks
from tests.evidence import REGION, evidence_model, region_mask, sigmoid


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


def test_background_value_is_the_most_common_border_pixel():
    images = np.full((2, 5, 6, 1), 0.2, np.float32)
    images[:, 1:4, 1:5] = np.random.default_rng(0).random((2, 3, 4, 1))  # the object
    images[0, 0, :3] = 0.9  # some object touches the border: still a minority there
    assert background_value(images) == pytest.approx(0.2)
    assert background_value(images[..., 0]) == pytest.approx(0.2)  # (N, H, W) too
    with pytest.raises(ValueError, match="N >= 1"):
        background_value(np.zeros((0, 4, 4)))


def test_occlusion_sign_on_a_model_that_also_reads_the_background():
    model = evidence_model()  # class 0: the object in REGION; class 1: a lit background
    image = np.zeros((1, 8, 8, 1), np.float32)
    image[0][REGION] = 0.5  # p(0) = sigmoid(3 x 4 x 0.5 = 6)
    mask = region_mask()
    near = binary_dilation(mask, structure=np.ones((3, 3)))  # a 2x2 patch over it touches REGION
    fill = background_value(image)
    assert fill == 0.0
    hidden = occlusion_map(model, image, classes=[0], patch=2, fill=fill)[0]
    # Hiding the object lowers p(true): the drop is positive on it.
    assert np.all(hidden[mask] > 0.01)
    # The background patch over background paints what is there: the image, and p(true), do
    # not change at all.
    assert np.all(hidden[~near] == 0)
    # A grey patch on the black background adds evidence for class 1: p(true) drops there
    # although nothing of the object is hidden. Pixel (6, 1): its four 2x2 patches are all on
    # background, each adding 0.1 x 4 x 0.5 = 0.2 to class 1's logit.
    grey = occlusion_map(model, image, classes=[0], patch=2, fill=0.5)[0]
    np.testing.assert_allclose(grey[6, 1], sigmoid(6) - sigmoid(5.8), rtol=1e-3)  # float32
    assert np.all(grey[~near] > 0)
    # Signed: for class 1, hiding the object raises its probability, a negative drop.
    other = occlusion_map(model, image, classes=[1], patch=1, fill=fill)[0]
    np.testing.assert_allclose(other[mask], (1 - sigmoid(6)) - (1 - sigmoid(4.5)), rtol=1e-4)
    assert np.all(other[mask] < 0) and np.all(other[~mask] == 0)


def test_a_fill_that_is_not_a_number_is_refused(region_model):
    with pytest.raises(ValueError, match="fill must be a finite number"):
        occlusion_map(region_model, np.ones((1, 8, 8, 1)), fill=float("nan"))
