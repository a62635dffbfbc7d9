"""2-D maps of feature vectors (t-SNE or PCA), e.g. of the penultimate layer's activations."""

from __future__ import annotations

import numpy as np

from convwatch.techniques.pca import pca
from convwatch.techniques.tsne import tsne

METHODS = ("tsne", "pca")
SMALL = 1000  # below this many points scikit-learn's t-SNE runs single-threaded
DENSE_LIMIT = 3000  # up to this many points the compiled exact t-SNE is the faster one


def embed(features, method: str = "tsne", seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """Embed `n` feature vectors in the plane.

    Args:
        features: array `(n, d)`; more dimensions are flattened to `(n, d1 * d2 * ...)`.
        method: `"tsne"` or `"pca"` (the first two principal components, by SVD of the
            centred data). Defaults to `"tsne"`. t-SNE runs as one compiled graph with exact
            gradients (`convwatch.techniques.tsne`) up to `DENSE_LIMIT` points, whose memory
            grows as n^2; past that, scikit-learn's Barnes-Hut `TSNE`, PCA-initialised.
        seed: random state of scikit-learn's t-SNE (the compiled one is deterministic).
            Defaults to 0.
        perplexity: t-SNE perplexity, clamped to `(n - 1) / 3` so small sets work.
            Defaults to 30.0.

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
    if x.shape[0] <= DENSE_LIMIT:
        return tsne(x, perplexity=perplexity)
    from sklearn.manifold import TSNE  # heavy: imported only when asked for
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    n, d = x.shape
    barnes_hut = TSNE(
        n_components=2,
        perplexity=float(min(perplexity, (n - 1) / 3)),
        init="pca" if min(n, d) >= 2 else "random",
        learning_rate="auto",
        random_state=seed,
    )
    # Small sets: OpenMP barriers cost more than the work, and stall when the CPU is shared.
    with threadpool_limits(limits=1 if n < SMALL else None, user_api="openmp"):
        return barnes_hut.fit_transform(x).astype(np.float32)


def _pca_map(x: np.ndarray) -> np.ndarray:
    """The first two principal components as float32 `(n, 2)`; a missing one is zeros."""
    projected = pca(x, 2)
    out = np.zeros((x.shape[0], 2), np.float32)
    out[:, : projected.shape[1]] = projected
    return out
