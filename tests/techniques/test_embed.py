"""embed: PCA recovers a plane exactly; t-SNE keeps two far-apart blobs apart; align_to undoes
a turn of a map."""

import numpy as np
import pytest

from convwatch.techniques import align_to, embed


def pairwise(points):
    return np.linalg.norm(points[:, None] - points[None], axis=-1)


def test_pca_recovers_a_plane_up_to_rotation():
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(50, 2)) * [3.0, 1.0]
    basis, _ = np.linalg.qr(rng.normal(size=(6, 2)))  # an orthonormal 2-D plane in 6-D
    features = plane @ basis.T + 5.0
    embedded = embed(features, method="pca")
    assert embedded.shape == (50, 2) and embedded.dtype == np.float32
    # A rigid map of the plane (rotation/reflection + shift) preserves all distances.
    np.testing.assert_allclose(pairwise(embedded), pairwise(plane), atol=1e-4)
    # The first component carries the larger spread (std 3 vs 1).
    assert embedded[:, 0].std() > 2 * embedded[:, 1].std()


def test_pca_flattens_and_pads():
    features = np.arange(12, dtype=np.float32).reshape(3, 2, 2)  # flattened to (3, 4)
    embedded = embed(features, method="pca")
    assert embedded.shape == (3, 2)
    # Points on a line: one informative component, the second is zeros.
    np.testing.assert_allclose(embedded[:, 1], 0, atol=1e-5)
    np.testing.assert_allclose(pairwise(embedded), pairwise(features.reshape(3, -1)), atol=1e-4)


def test_tsne_separates_two_far_blobs():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20, 8))
    b = rng.normal(size=(20, 8)) + 30.0
    embedded = embed(np.concatenate([a, b]), method="tsne", seed=0)
    assert embedded.shape == (40, 2) and embedded.dtype == np.float32
    d = pairwise(embedded)
    within = max(d[:20, :20].max(), d[20:, 20:].max())
    between = d[:20, 20:].min()
    assert within < between  # every point is nearer all of its blob than any of the other


def test_tsne_is_seeded_and_handles_tiny_sets():
    features = np.random.default_rng(1).normal(size=(5, 3))
    # perplexity 30 > n: clamped to (n - 1) / 3 instead of failing.
    first = embed(features, seed=3)
    np.testing.assert_array_equal(first, embed(features, seed=3))
    assert first.shape == (5, 2)
    assert embed(np.array([[0.0], [1.0], [3.0]])).shape == (3, 2)  # one feature: random init


def test_tsne_starts_from_initial_and_pca_ignores_it():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(30, 4)) + np.repeat(rng.normal(scale=10, size=(3, 4)), 10, 0)
    first = embed(features, seed=0)
    again = embed(features, seed=0, initial=first)
    assert np.linalg.norm(again - first, axis=1).mean() < 0.1 * np.ptp(first, axis=0).max()
    np.testing.assert_array_equal(
        embed(features, method="pca", initial=first), embed(features, method="pca")
    )


def test_align_to_undoes_a_turn_a_flip_and_a_shift():
    reference = np.random.default_rng(3).normal(size=(40, 2))
    angle = 2.0
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (reference * [1.0, -1.0]) @ turn + [5.0, -2.0]  # flipped, turned, shifted
    np.testing.assert_allclose(align_to(moved, reference), reference, atol=1e-5)
    with pytest.raises(ValueError, match="same points"):
        align_to(moved[:5], reference)


def test_errors():
    with pytest.raises(ValueError, match=r"Valid methods: \('tsne', 'pca'\)"):
        embed(np.zeros((4, 3)), method="umap")
    with pytest.raises(ValueError, match="at least 2"):
        embed(np.zeros((1, 3)), method="pca")
