"""t-SNE by openTSNE: as faithful as scikit-learn's, seeded, robust on tiny sets, and able to
start from a previous map so that consecutive maps line up."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from convwatch.techniques import tsne as tsne_module
from convwatch.techniques.tsne import tsne


def blobs(n_per: int = 60, classes: int = 3, dims: int = 12, seed: int = 0):
    """`classes` Gaussian blobs, well apart, and their labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=8.0, size=(classes, dims))
    labels = np.repeat(np.arange(classes), n_per)
    return centres[labels] + rng.normal(size=(len(labels), dims)), labels


def knn_agreement(coords: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Share of each point's k nearest map neighbours that have its label."""
    d = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :k]
    return float((labels[nearest] == labels[:, None]).mean())


def test_neighbourhoods_are_kept_as_well_as_scikit_learn_keeps_them():
    from sklearn.datasets import load_digits  # ships with scikit-learn: no download
    from sklearn.manifold import TSNE, trustworthiness
    from threadpoolctl import threadpool_limits

    x, _ = load_digits(return_X_y=True)
    x = x[:400]
    ours = tsne(x)
    with threadpool_limits(1, "openmp"):  # OpenMP spinning stalls when the CPU is shared
        reference = TSNE(random_state=0).fit_transform(x)
    assert ours.shape == (400, 2) and ours.dtype == np.float32
    # trustworthiness: 1.0 = every embedded neighbour is a true neighbour
    assert (
        trustworthiness(x, ours, n_neighbors=10)
        >= trustworthiness(x, reference, n_neighbors=10) - 0.01
    )


def test_same_seed_same_map():
    x = np.random.default_rng(0).normal(size=(60, 5))
    np.testing.assert_array_equal(tsne(x, seed=3), tsne(x, seed=3))


@pytest.mark.parametrize("fft", [False, True], ids=["barnes-hut", "fft"])
def test_clusters_separate(fft, monkeypatch):
    if fft:  # the FFT gradients serve large sets; shown on a small one here
        monkeypatch.setattr(tsne_module, "FFT_FROM", 10)
    x, labels = blobs()
    coords = tsne(x)
    assert np.isfinite(coords).all()
    assert knn_agreement(coords, labels) > 0.95


def test_tiny_and_duplicate_inputs_stay_finite():
    three = tsne(np.array([[0.0], [1.0], [3.0]]))  # perplexity 30 > n: clamped; one feature
    assert three.shape == (3, 2) and np.isfinite(three).all()
    x = np.zeros((5, 3))
    x[0] = 1.0
    assert np.isfinite(tsne(x)).all()
    assert np.isfinite(tsne(np.zeros((4, 3)))).all()  # all the same point
    with pytest.raises(ValueError, match="at least 2 points"):
        tsne(np.zeros((1, 3)))


def test_a_map_started_from_the_previous_one_stays_close():
    x, labels = blobs(seed=1)
    first = tsne(x)
    moved = x + np.random.default_rng(2).normal(scale=0.3, size=x.shape)  # the next epoch
    second = tsne(moved, initial=first)
    extent = np.ptp(first, axis=0).max()
    assert np.linalg.norm(second - first, axis=1).mean() < 0.1 * extent
    assert knn_agreement(second, labels) > 0.95
    with pytest.raises(ValueError, match=r"same 180 points, shape \(180, 2\)"):
        tsne(moved, initial=first[:10])


@pytest.mark.parametrize("small_up_to", [100, 10])
def test_long_runs_log_their_progress(monkeypatch, caplog, small_up_to):
    # a map of up to SMALL_UP_TO points takes 250 iterations, a larger one 500
    monkeypatch.setattr(tsne_module, "PROGRESS_FROM", 50)
    monkeypatch.setattr(tsne_module, "SMALL_UP_TO", small_up_to)
    x, _ = blobs(n_per=20)
    with caplog.at_level(logging.INFO, logger="convwatch.techniques.tsne"):
        tsne(x)
    lines = [r.getMessage() for r in caplog.records if r.name == "convwatch.techniques.tsne"]
    total = 250 if small_up_to >= 60 else 500
    assert lines[0].startswith(f"t-SNE of 60 points: iteration 100 of {total}")
    assert lines[-1].startswith(f"t-SNE of 60 points: iteration {total} of {total}")
