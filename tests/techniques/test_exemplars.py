"""top_exemplars: the true top-k per filter (brute force in numpy), patches, dead filters."""

import keras
import numpy as np
import pytest
from keras import layers

from convwatch.techniques import layer_outputs, receptive_field, top_exemplars


def brute_force(model, layer, images, k):
    """Per filter: the k images of largest max-over-positions activation (ties: earlier image),
    their values and the (row, col) of each maximum, from the full maps in one numpy array."""
    maps = layer_outputs(model, images, [layer])[layer]
    flat = maps.reshape(len(images), -1, maps.shape[-1])
    peak, where = flat.max(axis=1), flat.argmax(axis=1)  # (N, F)
    width = maps.shape[2] if maps.ndim == 4 else 1
    index = np.stack(
        [np.lexsort((np.arange(len(images)), -peak[:, f]))[:k] for f in range(peak.shape[1])]
    )
    values = np.take_along_axis(peak.T, index, 1)
    flat_pos = np.take_along_axis(where.T, index, 1)
    return index, values, np.stack([flat_pos // width, flat_pos % width], -1), peak.max(0) <= 0


@pytest.fixture(scope="module")
def trained():
    from tests.techniques.digits_net import trained_digits_net

    return trained_digits_net()


@pytest.mark.measure
@pytest.mark.parametrize("layer", ["conv1", "conv2", "dense2"])
def test_trained_net_exemplars_are_the_true_top_k(trained, layer):
    model, probe = trained
    got = top_exemplars(model, layer, probe, k=9, batch_size=100)  # 12 batches, running top-k
    index, values, position, dead = brute_force(model, layer, probe, 9)
    np.testing.assert_allclose(got.activation, values, rtol=1e-5, atol=1e-6)
    assert np.all(np.diff(got.activation, axis=1) <= 0)  # sorted descending
    live = ~dead
    np.testing.assert_array_equal(got.index[live], index[live])
    np.testing.assert_array_equal(got.position[live], position[live])
    np.testing.assert_array_equal(got.dead, dead)
    assert all(len(set(row)) == 9 for row in got.index)  # at most one exemplar per image


@pytest.mark.measure
def test_trained_net_dead_filters_never_activate(trained):
    from tests.techniques.digits_net import DEAD

    model, probe = trained
    for layer, killed in DEAD.items():
        got = top_exemplars(model, layer, probe)
        maps = layer_outputs(model, probe, [layer])[layer]
        assert got.dead[killed]  # the filter switched off by hand is found
        assert np.all(maps[..., got.dead] <= 0)  # dead: never above 0 anywhere
        assert np.all(maps[..., ~got.dead].max(axis=(0, 1, 2)) > 0)  # the others do fire


@pytest.mark.measure
def test_patches_are_the_units_receptive_fields(trained):
    model, probe = trained
    got = top_exemplars(model, "conv2", probe, k=4)
    top, left, height, width = receptive_field(model, "conv2")
    assert got.patches.shape == (15, 4, 10, 10, 1)
    for f, j in [(0, 0), (3, 2), (9, 3)]:
        row, col = got.position[f, j]
        r0, c0 = top + (row - 4) * 2, left + (col - 4) * 2  # unit (4, 4) is the centre, jump 2
        window = probe[got.index[f, j], r0 : r0 + height, c0 : c0 + width]
        np.testing.assert_array_equal(got.patches[f, j], window)


def test_windows_off_the_image_are_padded_grey():
    # A "same" 5x5 conv: a unit at the corner sees 2 rows and columns off the image.
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((6, 6, 1)), layers.Conv2D(1, 5, padding="same", name="c")]
    )
    kernel = np.zeros((5, 5, 1, 1), np.float32)
    kernel[2, 2] = 1.0  # the unit reads its own pixel: the brightest pixel wins
    model.get_layer("c").set_weights([kernel, np.zeros(1, np.float32)])
    images = np.zeros((2, 6, 6, 1), np.float32)
    images[0, 0, 0] = 1.0  # top-left corner
    images[1, 3, 4] = 0.5
    got = top_exemplars(model, "c", images, k=2)
    assert got.index.tolist() == [[0, 1]] and got.position[0].tolist() == [[0, 0], [3, 4]]
    corner = got.patches[0, 0, ..., 0]
    assert np.all(corner[:2] == 0.5) and np.all(corner[:, :2] == 0.5)  # off the image: grey
    np.testing.assert_array_equal(corner[2:, 2:], images[0, :3, :3, 0])  # the image part


def test_subset_batches_and_k_larger_than_the_probe_set(tiny_cnn, images):
    x, _ = images
    whole = top_exemplars(tiny_cnn, "conv", x, k=5)
    batched = top_exemplars(tiny_cnn, "conv", x, k=5, batch_size=3)
    for name in ("index", "position", "activation", "dead", "patches"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(batched, name))
    subset = top_exemplars(tiny_cnn, "conv", x, k=5, filters=[2, 0])
    np.testing.assert_array_equal(subset.index, whole.index[[2, 0]])
    assert top_exemplars(tiny_cnn, "conv", x[:3], k=9).index.shape == (4, 3)  # k capped at N


def test_nested_model_and_bad_arguments(nested_functional, images):
    model, _ = nested_functional
    x, _ = images
    got = top_exemplars(model, "conv", x, k=2)
    index, values, _, _ = brute_force(model, "conv", x, 2)
    np.testing.assert_allclose(got.activation, values, rtol=1e-5)
    with pytest.raises(ValueError, match="has 4 filters"):
        top_exemplars(model, "conv", x, filters=[7])
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        top_exemplars(model, "conv", x[0])


@pytest.mark.measure
def test_several_layers_at_once_equal_one_at_a_time(trained):
    from convwatch.techniques.exemplars import layer_exemplars

    model, probe = trained
    layers = {"conv1": None, "conv2": [4, 0, 9], "dense2": None}
    together = layer_exemplars(model, layers, probe, k=5, batch_size=300)
    assert list(together) == list(layers)
    for name, filters in layers.items():
        alone = top_exemplars(model, name, probe, k=5, filters=filters, batch_size=300)
        for field in ("filters", "patches", "index", "position", "activation", "dead"):
            np.testing.assert_array_equal(getattr(together[name], field), getattr(alone, field))


def test_a_unit_that_sees_more_than_the_image_has_the_whole_image_as_its_patch():
    import keras

    # four 5x5 convolutions: each unit's field is 17 px, more than the 12 px image
    model = keras.Sequential(
        [keras.Input((12, 12, 3))]
        + [keras.layers.Conv2D(2, 5, padding="same", name=f"c{i}") for i in range(4)]
    )
    images = np.random.default_rng(0).random((5, 12, 12, 3), dtype=np.float32)
    found = top_exemplars(model, "c3", images, k=2)
    assert found.patches.shape == (2, 2, 12, 12, 3)
    np.testing.assert_array_equal(found.patches[0, 0], images[found.index[0, 0]])
