"""pca: the principal components scikit-learn finds, with the sign fixed by the largest loading."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from convwatch.techniques.pca import pca


def test_pca_matches_scikit_learn_up_to_sign():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)) * [4.0, 2.0, 1.0, 0.5, 0.1]
    ours = pca(x, n=3)
    reference = PCA(n_components=3, svd_solver="full").fit_transform(x)
    assert ours.shape == (40, 3)
    # each column equals scikit-learn's, or its negative (both are principal components)
    for column in range(3):
        sign = np.sign(ours[:, column] @ reference[:, column])
        np.testing.assert_allclose(ours[:, column], sign * reference[:, column], atol=1e-10)


def test_signs_follow_the_largest_loading_and_components_are_limited_by_the_data():
    x = np.arange(12.0).reshape(3, 2, 2)  # flattened to (3, 4): three points on one line
    projected = pca(x)
    assert projected.shape == (3, 2)  # k = min(n=2, N=3, d=4)
    # the line's direction is (1, 1, 1, 1) / 2, positive: the points come out in their order
    np.testing.assert_allclose(projected[:, 0], [-8.0, 0.0, 8.0], atol=1e-9)
    assert pca(x, n=10).shape == (3, 3)  # no more components than points
    with pytest.raises(ValueError, match="Received: n=0"):
        pca(x, n=0)
