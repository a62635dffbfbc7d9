"""Matching filters across two networks: a permuted copy comes back as the inverse permutation."""

import keras
import numpy as np
import pytest
from keras import layers

from convwatch.techniques import match_filters
from convwatch.techniques.filter_matching import filter_correlation


def _net(seed: int, filters: int = 6, name: str = "conv"):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((9, 9, 3)),
            layers.Conv2D(filters, 3, activation="relu", name=name),
            layers.GlobalAveragePooling2D(name="gap"),
            layers.Dense(2, name="out"),
        ]
    )


def _permuted(model, order):
    """A copy whose conv filter j is the original's filter order[j]."""
    copy = keras.models.clone_model(model)
    kernel, bias = model.get_layer("conv").get_weights()
    copy.get_layer("conv").set_weights([kernel[..., order], bias[order]])
    return copy


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(24, 9, 9, 3)).astype("float32")


def test_a_copy_with_permuted_filters_is_matched_by_the_inverse_permutation(x):
    model = _net(1)
    order = np.array([3, 0, 5, 1, 4, 2])
    match, correlation = match_filters(model, _permuted(model, order), "conv", x)
    np.testing.assert_array_equal(match, np.argsort(order))  # A's i is B's argsort(order)[i]
    np.testing.assert_allclose(correlation, 1.0, atol=1e-6)
    assert match.dtype == np.int64 and correlation.shape == (6,)


def test_unrelated_networks_match_worse_and_each_filter_of_b_is_used_once(x):
    match, correlation = match_filters(_net(1), _net(2), "conv", x)
    assert sorted(match) == list(range(6))
    assert np.nanmedian(correlation) < 0.99


def test_a_with_more_filters_than_b_leaves_the_rest_unmatched_and_other_names_work(x):
    model = _net(1)
    match, correlation = match_filters(model, _net(2, filters=4, name="c2"), "conv", x, "c2")
    assert (match >= 0).sum() == 4 and set(match[match >= 0]) == {0, 1, 2, 3}
    assert np.isnan(correlation[match < 0]).all()


def test_a_filter_that_never_varies_correlates_zero_not_nan(x):
    model = _net(1)
    kernel, bias = model.get_layer("conv").get_weights()
    kernel[..., 0], bias[0] = 0.0, -1.0  # relu(-1) everywhere: dead
    model.get_layer("conv").set_weights([kernel, bias])
    r = filter_correlation(model, model, "conv", x)
    assert np.all(r[0] == 0) and np.all(r[:, 0] == 0)
    np.testing.assert_allclose(np.diag(r)[1:], 1.0, atol=1e-6)


def test_layers_of_different_spatial_shapes_are_refused_and_dense_units_match_per_input(x):
    model = _net(1)
    with pytest.raises(ValueError, match="same spatial shape.*49 and 1 positions per input"):
        match_filters(model, model, "conv", x, "gap")
    match, correlation = match_filters(model, model, "gap", x)  # one sample per input
    np.testing.assert_array_equal(match, np.arange(6))
    np.testing.assert_allclose(correlation, 1.0, atol=1e-6)
