"""Nearest neighbours in feature space: which images a layer thinks look alike."""

from __future__ import annotations

import numpy as np

_BLOCK = 1024  # query rows per distance block: memory stays at _BLOCK * n floats


def nearest_neighbours(features, k: int = 5, queries=None) -> np.ndarray:
    """Indices of the `k` nearest rows (Euclidean) of each query row, nearest first.

    Args:
        features: array `(n, d)`; more dimensions are flattened.
        k: neighbours per query, 1 <= k <= n - 1. Defaults to 5.
        queries: indices `(q,)` of the rows to query. Defaults to every row (`q = n`).

    Returns:
        int64 array `(q, k)`: row i holds the indices of the k rows of `features` closest to
        row `queries[i]`, never `queries[i]` itself (other rows at distance 0 are kept).
        Equal distances are ordered by index.
    """
    x = np.asarray(features, dtype=np.float64)
    x = x.reshape(x.shape[0], -1) if x.ndim else x.reshape(0, 0)
    n = x.shape[0]
    if not 1 <= k <= n - 1:
        raise ValueError(f"k must be between 1 and n - 1 = {n - 1}. Received: k={k}")
    rows = np.arange(n) if queries is None else np.asarray(queries, dtype=np.int64).reshape(-1)
    if rows.size and (rows.min() < -n or rows.max() >= n):
        raise ValueError(f"queries must index the {n} rows of features. Received: {queries}")
    rows = rows % n
    squared = np.einsum("ij,ij->i", x, x)
    result = np.empty((rows.size, k), np.int64)
    for start in range(0, rows.size, _BLOCK):  # blocks of queries, not one row at a time
        block = rows[start : start + _BLOCK]
        dist = squared[block, None] + squared[None, :] - 2.0 * x[block] @ x.T
        dist = np.maximum(dist, 0.0)
        dist[np.arange(block.size), block] = np.inf  # never the query itself
        # Sort by (distance, index): lexsort's last key is the primary one.
        order = np.lexsort((np.broadcast_to(np.arange(n), dist.shape), dist), axis=1)
        result[start : start + block.size] = order[:, :k]
    return result
