"""The compiled t-SNE: as faithful as scikit-learn's on real data, deterministic, and robust."""

from __future__ import annotations

import numpy as np

from convwatch.techniques.tsne import _joint_probabilities, _squared_distances, tsne


def test_neighbourhoods_are_kept_as_well_as_scikit_learn_keeps_them():
    from sklearn.datasets import load_digits  # ships with scikit-learn: no download
    from sklearn.manifold import TSNE, trustworthiness

    x, _ = load_digits(return_X_y=True)
    x = x[:400]
    from threadpoolctl import threadpool_limits

    ours = tsne(x)
    with threadpool_limits(1, "openmp"):  # OpenMP spinning stalls when the CPU is shared
        reference = TSNE(random_state=0).fit_transform(x)
    assert ours.shape == (400, 2) and ours.dtype == np.float32
    # trustworthiness: 1.0 = every embedded neighbour is a true neighbour
    assert (
        trustworthiness(x, ours, n_neighbors=10)
        >= trustworthiness(x, reference, n_neighbors=10) - 0.02
    )


def test_same_input_same_map():
    x = np.random.default_rng(0).normal(size=(60, 5))
    np.testing.assert_array_equal(tsne(x), tsne(x))


def test_conditional_rows_reach_the_perplexity():
    x = np.random.default_rng(1).normal(size=(200, 10))
    joint = _joint_probabilities(_squared_distances(x), perplexity=20.0)
    assert np.allclose(joint, joint.T)  # symmetric
    assert abs(joint.sum() - 1.0) < 1e-3  # a distribution over pairs (floor of 1e-12 aside)
    np.testing.assert_allclose(np.diag(joint), 1e-12)  # no point is its own neighbour


def test_tiny_and_duplicate_inputs_stay_finite():
    x = np.zeros((5, 3))
    x[0] = 1.0
    assert np.isfinite(tsne(x)).all()
