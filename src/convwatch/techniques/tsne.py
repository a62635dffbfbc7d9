"""t-SNE as one compiled TensorFlow graph: exact gradients, all points at once.

For the few thousand points a run embeds, the exact O(n^2) gradient computed as dense matrix
operations inside one `tf.function` (the whole optimisation loop in the graph) is faster on a
CPU than scikit-learn's Barnes-Hut tree, and deterministic. It follows van der Maaten & Hinton
(2008) with scikit-learn's defaults: perplexity 30, PCA initialisation scaled to std 1e-4,
early exaggeration 12 for 250 of 1,000 iterations, momentum 0.5 then 0.8, per-parameter gains,
learning rate max(n / 48, 50). Memory grows as n^2 (about 0.5 GB at n = 5,000), so `embed`
hands larger inputs to scikit-learn.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from convwatch.techniques.pca import pca

EXAGGERATION_ITERATIONS = 250
EARLY_EXAGGERATION = 12.0


def tsne(features: np.ndarray, perplexity: float = 30.0, iterations: int = 1000) -> np.ndarray:
    """Embed `features` `(n, d)` in 2-D; returns float32 `(n, 2)`."""
    x = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    n = len(x)
    perplexity = float(min(perplexity, max((n - 1) / 3.0, 1.0)))
    p = _joint_probabilities(_squared_distances(x), perplexity)
    y0 = _pca_init(x)
    learning_rate = max(n / EARLY_EXAGGERATION / 4.0, 50.0)
    y = _optimise(
        tf.constant(p, tf.float32),
        tf.constant(y0, tf.float32),
        tf.constant(learning_rate, tf.float32),
        tf.constant(int(iterations), tf.int32),
    )
    return y.numpy().astype(np.float32)


def _squared_distances(x: np.ndarray) -> np.ndarray:
    sq = (x * x).sum(1)
    d = sq[:, None] + sq[None, :] - 2.0 * x @ x.T
    np.maximum(d, 0.0, out=d)
    np.fill_diagonal(d, 0.0)
    return d


def _joint_probabilities(d: np.ndarray, perplexity: float, tries: int = 64) -> np.ndarray:
    """Symmetric P over each point's 3 * perplexity nearest neighbours (as scikit-learn's
    Barnes-Hut t-SNE does); each row's Gaussian width is found by bisection, all rows at
    once, so that its entropy is log(perplexity)."""
    n = len(d)
    k = int(min(n - 1, 3 * perplexity + 1))
    masked = d + np.diag(np.full(n, np.inf))
    neighbours = np.argpartition(masked, k - 1, axis=1)[:, :k]
    dist = np.take_along_axis(d, neighbours, 1)
    target = np.log(perplexity)
    lo, hi, beta = np.zeros(n), np.full(n, np.inf), np.ones(n)
    for _ in range(tries):
        logits = -dist * beta[:, None]
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        entropy = -(p * np.log(np.maximum(p, 1e-300))).sum(1)
        too_wide = entropy > target  # raise beta (narrow the Gaussian)
        lo = np.where(too_wide, beta, lo)
        hi = np.where(too_wide, hi, beta)
        beta = np.where(np.isinf(hi), beta * 2, (lo + hi) / 2)
    conditional = np.zeros((n, n))
    np.put_along_axis(conditional, neighbours, p, 1)
    joint = (conditional + conditional.T) / (2.0 * n)
    return np.maximum(joint, 1e-12)


def _pca_init(x: np.ndarray) -> np.ndarray:
    """The first two principal components, scaled to std 1e-4 (a missing one: tiny noise)."""
    projected = pca(x, 2)
    y = np.random.default_rng(0).normal(size=(len(x), 2))
    y[:, : projected.shape[1]] = projected
    return y / max(np.std(y[:, 0]), 1e-12) * 1e-4


def _graph():
    @tf.function(reduce_retracing=True, jit_compile=True)
    def optimise(p, y, learning_rate, iterations):
        n = tf.shape(y)[0]
        not_self = 1.0 - tf.eye(n)
        update = tf.zeros_like(y)
        gains = tf.ones_like(y)

        def step(i, y, update, gains):
            early = i < EXAGGERATION_ITERATIONS
            exaggeration = tf.where(early, EARLY_EXAGGERATION, 1.0)
            momentum = tf.where(early, 0.5, 0.8)
            sq = tf.reduce_sum(y * y, 1)
            dist = sq[:, None] + sq[None, :] - 2.0 * tf.matmul(y, y, transpose_b=True)
            q_num = not_self / (1.0 + tf.maximum(dist, 0.0))
            q = tf.maximum(q_num / tf.reduce_sum(q_num), 1e-12)
            weights = (exaggeration * p - q) * q_num
            grad = 4.0 * (tf.reduce_sum(weights, 1, keepdims=True) * y - tf.matmul(weights, y))
            same_sign = tf.equal(grad > 0, update > 0)
            gains = tf.maximum(tf.where(same_sign, gains * 0.8, gains + 0.2), 0.01)
            update = momentum * update - learning_rate * gains * grad
            return i + 1, y + update, update, gains

        _, y, _, _ = tf.while_loop(
            lambda i, *_: i < iterations, step, (tf.constant(0), y, update, gains)
        )
        return y

    return optimise


_OPTIMISE = None


def _optimise(p, y, learning_rate, iterations):
    global _OPTIMISE
    if _OPTIMISE is None:
        _OPTIMISE = _graph()
    return _OPTIMISE(p, y, learning_rate, iterations)
