"""Principal component analysis by SVD, with deterministic signs: `embed`'s "pca" map and the
starting layout of the compiled t-SNE both come from here."""

from __future__ import annotations

import numpy as np


def pca(features, n: int = 2) -> np.ndarray:
    """Project `features` on their first `n` principal components.

    The data are centred and decomposed by SVD; each component is signed so that its largest
    loading is positive (deterministic, as scikit-learn's `svd_flip`).

    Args:
        features: array `(N, d)`; more dimensions are flattened to `(N, d1 * d2 * ...)`.
        n: how many components. Defaults to 2.

    Returns:
        float64 array `(N, k)` with `k = min(n, N, d)`: there are no more components than that.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1. Received: n={n!r}")
    x = np.asarray(features, dtype=np.float64)
    x = x.reshape(x.shape[0], -1)
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[: int(n)]
    rows = np.arange(len(components))
    signs = np.sign(components[rows, np.abs(components).argmax(axis=1)])
    return centred @ (components * signs[:, None]).T
