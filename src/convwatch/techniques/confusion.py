"""What a classifier's predictions say: confusion matrix, per-class accuracy, confused pairs, top-k.

NumPy on labels and probabilities, the counts by `sklearn.metrics.confusion_matrix`; no model, no
files. Rows of a confusion matrix are the true classes and columns the predicted ones
(scikit-learn's convention), so row `i` tells where the examples of class `i` went.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _labels(values, name: str) -> np.ndarray:
    """Class ids `(n,)` from ids or from one-hot / probability rows `(n, k)` (their argmax)."""
    array = np.asarray(values)
    if array.ndim == 2:
        array = array.argmax(axis=-1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be class ids (n,) or rows (n, k). Received: {array.shape}")
    return array.astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Counts of (true class, predicted class) pairs.

    Args:
        y_true: class ids `(n,)`, or one-hot rows `(n, k)`.
        y_pred: class ids `(n,)`, or probability rows `(n, k)` (the argmax is the prediction).
        num_classes: `k`. Defaults to one more than the largest id seen.

    Returns:
        int64 array `(k, k)`: entry `[i, j]` counts examples of class i predicted as class j.
    """
    true, pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if true.shape != pred.shape:
        raise ValueError(
            f"y_true and y_pred differ in length. Received: {true.shape} vs {pred.shape}"
        )
    k = (
        num_classes
        if num_classes is not None
        else int(max(true.max(initial=-1), pred.max(initial=-1))) + 1
    )
    if not true.size:
        return np.zeros((k, k), np.int64)  # scikit-learn refuses an empty set; nothing to count
    if min(true.min(), pred.min()) < 0 or max(true.max(), pred.max()) >= k:
        raise ValueError(
            f"class ids must lie in 0..{k - 1}. Received: ids from "
            f"{min(true.min(), pred.min())} to {max(true.max(), pred.max())}"
        )
    from sklearn import metrics  # heavy (about a second): loaded when a matrix is wanted

    return metrics.confusion_matrix(true, pred, labels=np.arange(k)).astype(np.int64)


def normalize_rows(matrix) -> np.ndarray:
    """Each row divided by its sum (the share of a true class going to each prediction).

    A row with no examples stays all zero rather than becoming NaN.
    """
    counts = np.asarray(matrix, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def overall_accuracy(matrix) -> float:
    """Correct predictions (the diagonal) over all examples; NaN for an empty matrix."""
    counts = np.asarray(matrix)
    total = counts.sum()
    return float(np.trace(counts) / total) if total else float("nan")


def per_class_accuracy(matrix) -> np.ndarray:
    """Recall of each class `(k,)`: the share of its examples predicted right (NaN if none)."""
    counts = np.asarray(matrix, dtype=np.float64)
    support = counts.sum(axis=1)
    return np.divide(np.diag(counts), support, out=np.full(len(counts), np.nan), where=support > 0)


def errors_by_class(matrix) -> np.ndarray:
    """Wrong predictions per true class `(k,)`: each row's total minus its diagonal."""
    counts = np.asarray(matrix)
    return (counts.sum(axis=1) - np.diag(counts)).astype(np.int64)


@dataclass(frozen=True)
class ConfusedPair:
    """Examples of class `true` predicted as `predicted`: how many, and the share of `true`."""

    true: int
    predicted: int
    count: int
    rate: float


def most_confused(matrix, n: int = 5) -> list[ConfusedPair]:
    """The `n` largest off-diagonal cells, by rate (share of the true class), then count.

    Ranking by rate means a rare class that is always mistaken is not hidden behind big ones;
    on balanced data (MNIST, Fashion-MNIST) it is the same order as by count. Cells with no
    errors are never listed, so fewer than `n` pairs may come back.
    """
    counts = np.asarray(matrix, dtype=np.int64)
    rates = normalize_rows(counts)
    true, pred = np.nonzero(counts * (1 - np.eye(len(counts), dtype=np.int64)))
    # lexsort's last key is the primary one: rate descending, then count, then ids ascending.
    order = np.lexsort((pred, true, -counts[true, pred], -rates[true, pred]))[:n]
    return [
        ConfusedPair(
            int(true[i]),
            int(pred[i]),
            int(counts[true[i], pred[i]]),
            float(rates[true[i], pred[i]]),
        )
        for i in order
    ]


def top_k(probabilities, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The `k` most probable classes of each row, most probable first.

    Args:
        probabilities: array `(n, classes)`.
        k: how many, at most `classes`. Defaults to 3.

    Returns:
        `(classes, values)`, both `(n, k)`: int64 class ids and their probabilities. Ties go
        to the lower class id.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or not 1 <= k <= p.shape[1]:
        raise ValueError(
            f"probabilities must be (n, classes) with k <= classes. Received: {p.shape}, k={k}"
        )
    order = np.argsort(-p, axis=1, kind="stable")[:, :k]
    return order.astype(np.int64), np.take_along_axis(p, order, axis=1)
