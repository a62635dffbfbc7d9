"""2-D maps of feature vectors (t-SNE or PCA), e.g. of the penultimate layer's activations."""

from __future__ import annotations

import numpy as np

METHODS = ("tsne", "pca")


def embed(features, method: str = "tsne", seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """Embed `n` feature vectors in the plane.

    Args:
        features: array `(n, d)`; more dimensions are flattened to `(n, d1 * d2 * ...)`.
        method: `"tsne"` (scikit-learn's `TSNE`, PCA-initialised) or `"pca"` (the first two
            principal components, by SVD of the centred data). Defaults to `"tsne"`.
        seed: random state of t-SNE. Defaults to 0.
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
        return _pca(x)
    from sklearn.manifold import TSNE  # heavy: imported only when asked for

    n, d = x.shape
    tsne = TSNE(
        n_components=2,
        perplexity=float(min(perplexity, (n - 1) / 3)),
        init="pca" if min(n, d) >= 2 else "random",
        learning_rate="auto",
        random_state=seed,
    )
    return tsne.fit_transform(x).astype(np.float32)


def _pca(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    rows = np.arange(len(components))
    signs = np.sign(components[rows, np.abs(components).argmax(axis=1)])
    projected = centred @ (components * signs[:, None]).T
    out = np.zeros((x.shape[0], 2), np.float32)
    out[:, : projected.shape[1]] = projected
    return out
