"""Linear CKA: its invariances, the Gram form against the feature form, the debiased estimator,
and the layer-by-layer matrix of two models."""

import keras
import numpy as np
import pytest
from keras import layers

from convwatch.techniques import cka, layer_similarity
from convwatch.techniques.similarity import default_similarity_layers, layer_grams


def _feature_form(x, y):
    """Kornblith et al.'s eq. 5: ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F), centred columns."""
    x = x - x.mean(0)
    y = y - y.mean(0)
    return np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


def _song_hsic(k, m):
    """Song et al. (2012), eq. 5, written out term by term."""
    n = len(k)
    k, m = k.copy(), m.copy()
    np.fill_diagonal(k, 0)
    np.fill_diagonal(m, 0)
    one = np.ones(n)
    return (
        np.trace(k @ m)
        + (one @ k @ one) * (one @ m @ one) / ((n - 1) * (n - 2))
        - 2 / (n - 2) * one @ k @ m @ one
    ) / (n * (n - 3))


def test_identical_rotated_and_scaled_features_have_cka_one():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 12))
    rotation, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    assert cka(x, x) == pytest.approx(1.0)
    assert cka(x, x @ rotation) == pytest.approx(1.0)
    assert cka(x, 7.5 * x) == pytest.approx(1.0)
    assert cka(x, x @ rotation, debiased=True) == pytest.approx(1.0)
    # not invariant to a non-isotropic scaling: that is what makes it a similarity of geometry
    assert cka(x, x * np.linspace(0.1, 10, 12)) < 0.9


def test_the_gram_form_equals_the_feature_form_and_flattens_per_input():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 4, 5))
    y = np.tanh(x.reshape(30, -1) @ rng.normal(size=(20, 7))) + 0.3 * rng.normal(size=(30, 7))
    assert cka(x, y) == pytest.approx(_feature_form(x.reshape(30, -1), y), rel=1e-10)
    assert cka(x, y) == pytest.approx(cka(y, x))
    assert 0.1 < cka(x, y) < 0.99


def test_debiased_cka_is_near_zero_for_independent_wide_features_where_plain_is_not():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(40, 2000))
    b = rng.normal(size=(40, 2000))
    assert cka(a, b) > 0.5  # the plain estimate's bias when features outnumber inputs
    assert abs(cka(a, b, debiased=True)) < 0.05


def test_debiased_cka_is_song_et_al_unbiased_hsic_normalised():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(9, 3))
    y = x @ rng.normal(size=(3, 4)) + rng.normal(size=(9, 4))
    k, m = x @ x.T, y @ y.T
    expected = _song_hsic(k, m) / np.sqrt(_song_hsic(k, k) * _song_hsic(m, m))
    assert cka(x, y, debiased=True) == pytest.approx(expected, rel=1e-10)


def test_wrong_inputs_raise_naming_what_was_received():
    with pytest.raises(ValueError, match=r"same inputs.*a.shape=\(5, 2\), b.shape=\(4, 2\)"):
        cka(np.ones((5, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="at least 4 inputs with debiased=True. Received: 3"):
        cka(np.eye(3), np.eye(3), debiased=True)
    assert np.isnan(cka(np.ones((5, 2)), np.eye(5)))  # a constant representation


def _digits_net(seed: int):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((10, 10, 1)),
            layers.Conv2D(6, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Flatten(name="flatten"),
            layers.Dropout(0.5, name="dropout"),
            layers.Dense(8, activation="relu", name="dense1"),
            layers.Dense(3, activation="softmax", name="output"),
        ]
    )


def test_the_default_layers_are_what_the_captures_show_plus_penultimate_and_output():
    assert default_similarity_layers(_digits_net(0)) == ["conv1", "pool1", "dense1", "output"]


def test_a_model_against_itself_has_ones_on_the_diagonal_and_layers_in_order():
    x = np.random.default_rng(4).uniform(size=(60, 10, 10, 1)).astype("float32")
    model = _digits_net(0)
    matrix, rows, cols = layer_similarity(model, model, x)
    assert rows == cols == ["conv1", "pool1", "dense1", "output"]
    np.testing.assert_allclose(np.diag(matrix), 1.0, atol=1e-9)
    np.testing.assert_allclose(matrix, matrix.T, atol=1e-9)
    other, rows, cols = layer_similarity(model, _digits_net(1), x, ["conv1"], ["conv1", "output"])
    assert other.shape == (1, 2) and (rows, cols) == (["conv1"], ["conv1", "output"])
    assert np.all((other > 0) & (other < 1))


def test_layers_too_large_to_hold_are_read_in_groups_or_slices_with_the_same_result():
    x = np.random.default_rng(5).uniform(size=(20, 10, 10, 1)).astype("float32")
    model = _digits_net(0)
    names = ["conv1", "pool1", "dense1"]
    together = layer_grams(model, x, names)
    # conv1 holds 20 x 8 x 8 x 6 x 4 bytes = 30,720: a budget under that reads one at a time
    apart = layer_grams(model, x, names, held_bytes=20_000)
    # ... and under 20 x 384 x 8 = 61,440 it reads conv1 in slices of its values, summed
    sliced = layer_grams(model, x, names, held_bytes=9_000)
    for a, b, c in zip(together, apart, sliced, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
        np.testing.assert_allclose(a, c, rtol=1e-6)
