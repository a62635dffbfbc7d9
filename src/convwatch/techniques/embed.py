"""2-D maps of feature vectors (t-SNE or PCA), e.g. of the penultimate layer's activations."""

from __future__ import annotations

import numpy as np

from convwatch.techniques.pca import pca
from convwatch.techniques.tsne import tsne

METHODS = ("tsne", "pca")


def embed(
    features,
    method: str = "tsne",
    seed: int = 0,
    perplexity: float = 30.0,
    initial: np.ndarray | None = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Embed `n` feature vectors in the plane.

    Args:
        features: array `(n, d)`; more dimensions are flattened to `(n, d1 * d2 * ...)`.
        method: `"tsne"` or `"pca"` (the first two principal components, by SVD of the
            centred data). Defaults to `"tsne"`: openTSNE, one code path for every size
            (`convwatch.techniques.tsne`).
        seed: t-SNE's random state: the same seed gives the same map. Defaults to 0.
        perplexity: t-SNE perplexity, clamped to `max((n - 1) / 3, 1)` so small sets work.
            Defaults to 30.0.
        initial: t-SNE only: `(n, 2)`, the previous map of the same points to start from, so
            that consecutive maps line up. Ignored by PCA (deterministic already).
        n_jobs: t-SNE threads; None (the default) picks by size (see `tsne`).

    Returns:
        float32 array `(n, 2)`. PCA components are signed so that each one's largest
        loading is positive (deterministic, as scikit-learn's `svd_flip`); with fewer than two
        informative directions the missing column is zeros.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown embedding method {method!r}. Valid methods: {METHODS}")
    x = np.asarray(features, dtype=np.float64)
    if x.ndim < 1 or x.shape[0] < 2:
        raise ValueError(f"Need at least 2 feature vectors to embed. Received shape {x.shape}")
    x = x.reshape(x.shape[0], -1)
    if method == "pca":
        return _pca_map(x)
    return tsne(x, perplexity=perplexity, seed=seed, initial=initial, n_jobs=n_jobs)


def _pca_map(x: np.ndarray) -> np.ndarray:
    """The first two principal components as float32 `(n, 2)`; a missing one is zeros."""
    projected = pca(x, 2)
    out = np.zeros((x.shape[0], 2), np.float32)
    out[:, : projected.shape[1]] = projected
    return out


def align_to(coords, reference) -> np.ndarray:
    """`coords` `(n, 2)` turned (rotated or reflected, and shifted; never scaled) to lie as
    close as it can to `reference` `(n, 2)`, the same points' earlier map (orthogonal
    Procrustes). A PCA map may flip or turn from one epoch to the next; this keeps a GIF of
    them still where the data is. Returns float32 `(n, 2)`."""
    a = np.asarray(coords, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"need two maps of the same points, (n, 2). Received {a.shape}, {b.shape}")
    a_mean, b_mean = a.mean(axis=0), b.mean(axis=0)
    u, _, vt = np.linalg.svd((a - a_mean).T @ (b - b_mean))
    return ((a - a_mean) @ (u @ vt) + b_mean).astype(np.float32)
