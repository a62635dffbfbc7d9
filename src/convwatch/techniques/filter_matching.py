"""Which filter of one network does the job of each filter of another: one-to-one matching by the
correlation of their activations (Li, Yosinski, Clune, Lipson and Hopcroft, "Convergent
Learning", ICLR 2016).

Two networks trained from different seeds learn many of the same features in a different
order. Each filter's activation at every position of every probe input is one sample; the
Pearson correlation of two filters over those samples says how alike they respond, and the
Hungarian assignment on the correlation matrix pairs each filter of A with a distinct one of B
so that the summed correlation is largest. The sums behind the correlations are accumulated
batch by batch in float64, so the probe set can be as large as wanted.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from convwatch.techniques.activations import layer_outputs
from convwatch.techniques.memory import footprint


def filter_correlation(model_a, model_b, layer: str, x, layer_b: str | None = None) -> np.ndarray:
    """`(F_a, F_b)` Pearson correlation of every filter of `layer` in `model_a` with every filter
    of `layer_b` (default `layer`) in `model_b`, over all positions of all inputs `x`.

    A filter that is constant over the probe set (a dead ReLU unit) correlates 0 with all.
    The two layers' outputs must have the same spatial shape (one sample per position).
    """
    layer_b = layer_b or layer
    x = np.asarray(x)
    batch = min(_batch(model_a, x, layer), _batch(model_b, x, layer_b))
    sums = None
    for begin in range(0, len(x), batch):
        part = x[begin : begin + batch]
        a = _positions(layer_outputs(model_a, part, layer)[layer], layer, "A")
        b = _positions(layer_outputs(model_b, part, layer_b)[layer_b], layer_b, "B")
        if len(a) != len(b):
            raise ValueError(
                f"Layers {layer!r} (A) and {layer_b!r} (B) must have outputs of the same spatial "
                f"shape to be matched position by position. Received: {len(a) // len(part)} and "
                f"{len(b) // len(part)} positions per input"
            )
        found = (len(a), a.sum(0), b.sum(0), (a * a).sum(0), (b * b).sum(0), a.T @ b)
        sums = found if sums is None else tuple(s + f for s, f in zip(sums, found, strict=True))
    if sums is None:
        raise ValueError(f"x must hold at least one input. Received: x.shape={x.shape}")
    count, sa, sb, saa, sbb, sab = sums
    covariance = sab / count - np.outer(sa / count, sb / count)
    var_a = np.maximum(saa / count - (sa / count) ** 2, 0.0)
    var_b = np.maximum(sbb / count - (sb / count) ** 2, 0.0)
    scale = np.sqrt(np.outer(var_a, var_b))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(scale > 1e-12 * max(float(scale.max()), 1e-30), covariance / scale, 0.0)
    return np.clip(r, -1.0, 1.0)


def _positions(out: np.ndarray, layer: str, which: str) -> np.ndarray:
    """`(n, ..., F)` outputs as `(n * positions, F)` float64 samples."""
    if out.ndim < 2:
        raise ValueError(f"Layer {layer!r} ({which}) has no filters: output shape {out.shape}")
    return out.reshape(-1, out.shape[-1]).astype(np.float64)


def _batch(model, x, layer: str) -> int:
    """Inputs per forward call, within the capture's forward-pass memory."""
    per_input = int(np.prod(layer_outputs(model, x[:1], layer)[layer].shape[1:]))
    return footprint(model, x.shape[1:]).forward_batch(kept=8 * 3 * per_input)


def match_filters(
    model_a, model_b, layer: str, x, layer_b: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each filter of `layer` in `model_a` paired one-to-one with a filter of `layer_b` (default
    the same name) in `model_b`, maximising the summed correlation of their activations over
    the positions of `x` (Hungarian assignment).

    Returns:
        `(match, correlation)`, both as long as A's filters: `match[i]` is the index of the
        filter of B matched to A's filter i and `correlation[i]` their correlation. Where A
        has more filters than B, the ones left over have `match` -1 and correlation NaN.
        A copy of a model with its filters permuted gives the inverse permutation, with
        correlations 1.
    """
    r = filter_correlation(model_a, model_b, layer, x, layer_b)
    rows, cols = linear_sum_assignment(r, maximize=True)
    match = np.full(len(r), -1, dtype=np.int64)
    correlation = np.full(len(r), np.nan)
    match[rows] = cols
    correlation[rows] = r[rows, cols]
    return match, correlation
