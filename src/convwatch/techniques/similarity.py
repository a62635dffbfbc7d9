"""How alike two networks' representations are, layer by layer: linear CKA (Kornblith et al.,
"Similarity of Neural Network Representations Revisited", ICML 2019).

Each layer's output on the same n inputs, flattened per input, becomes an n x n Gram matrix of
inner products; CKA is the normalised alignment of two centred Gram matrices. It is 1 for
representations that differ only by a rotation or an isotropic scale, and does not depend on
how many features a layer has, so a conv layer of 17,280 values an input compares with a dense
layer of 50. The Gram (n x n) form is used, never the feature form `||B^T A||^2`, whose
p x p product is 2 GB for one 24x24x30 map.

With `debiased=True` HSIC is Song et al.'s (2012) unbiased estimator: plain CKA of two
independent random representations is well above 0 when the features outnumber the inputs
(Davari et al. 2022), the debiased one is near 0. A fact a reader must keep beside any figure:
linear CKA barely separates a trained early conv layer from the same layer untrained (both keep
most of the input's geometry), so `layer_similarity` is best read against an untrained baseline.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

import numpy as np

from convwatch.techniques.activations import layer_outputs
from convwatch.techniques.layers import layer_paths, output_layer, penultimate_layer
from convwatch.techniques.memory import footprint
from convwatch.techniques.stages import default_layers

HELD_BYTES = 512 * 2**20  # the layer outputs over the whole probe set held at once


def gram(features) -> np.ndarray:
    """The n x n float64 matrix of inner products of `features` `(n, ...)`, flattened per row."""
    x = np.asarray(features)
    x = x.reshape(len(x), -1).astype(np.float64, copy=False)
    return x @ x.T


def cka(a, b, debiased: bool = False) -> float:
    """Linear CKA of two feature arrays over the same n inputs.

    Args:
        a: `(n, ...)` features, e.g. a layer's outputs `(n, h, w, c)`; flattened per input.
        b: `(n, ...)` features of the same n inputs, any width.
        debiased: use the unbiased HSIC estimator (needs n >= 4): near 0 for independent
            features, where the plain estimate grows with the width.

    Returns:
        CKA in [0, 1] for `debiased=False` (the debiased estimate can dip slightly below 0);
        NaN when either array is constant over the inputs.
    """
    a, b = np.asarray(a), np.asarray(b)
    if len(a) != len(b):
        raise ValueError(
            f"a and b must hold the same inputs (same first dimension). Received: "
            f"a.shape={a.shape}, b.shape={b.shape}"
        )
    return float(cka_of_grams([gram(a)], [gram(b)], debiased)[0, 0])


def cka_of_grams(
    grams_a: Sequence[np.ndarray], grams_b: Sequence[np.ndarray], debiased: bool = False
) -> np.ndarray:
    """`(len(grams_a), len(grams_b))` CKA of every pair of n x n Gram matrices."""
    n = len(grams_a[0]) if len(grams_a) else 0
    if n < (4 if debiased else 2):
        raise ValueError(
            f"CKA needs at least {4 if debiased else 2} inputs"
            f"{' with debiased=True' if debiased else ''}. Received: {n}"
        )
    prepare = _unbiased_centred if debiased else _centred
    left = np.stack([prepare(g).ravel() for g in grams_a])
    right = np.stack([prepare(g).ravel() for g in grams_b])
    # <K, L> of the prepared matrices is the HSIC estimate (up to a factor that cancels).
    cross = left @ right.T
    norms = np.sqrt(np.maximum(np.einsum("ij,ij->i", left, left), 0.0))
    norms_b = np.sqrt(np.maximum(np.einsum("ij,ij->i", right, right), 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cross / np.outer(norms, norms_b)


def _centred(k: np.ndarray) -> np.ndarray:
    """H K H, H = I - 11^T / n: the Gram matrix of the centred features."""
    k = k - k.mean(axis=0, keepdims=True)
    return k - k.mean(axis=1, keepdims=True)


def _unbiased_centred(k: np.ndarray) -> np.ndarray:
    """K U-centred (Szekely and Rizzo 2014): zero diagonal, and <U(K), U(L)> / (n(n-3)) is
    the unbiased HSIC estimate of Song et al. (2012)."""
    n = len(k)
    k = k.copy()
    np.fill_diagonal(k, 0.0)
    sums = k.sum(axis=0)
    u = k - sums[None, :] / (n - 2) - sums[:, None] / (n - 2) + sums.sum() / ((n - 1) * (n - 2))
    np.fill_diagonal(u, 0.0)
    return u


def default_similarity_layers(model, image_shape=None) -> list[str]:
    """The layers compared by default: the layers the captures show (every conv, pooling and
    dense layer of a small net, one per stage of a deep one), the penultimate and the output,
    in model order."""
    chosen = set(default_layers(model, ("conv", "pool", "dense"), image_shape))
    for extra in (penultimate_layer, output_layer):
        with contextlib.suppress(ValueError):  # a model too small to have one
            chosen.add(extra(model))
    return [name for name in layer_paths(model) if name in chosen]


def layer_grams(model, x, layers: Sequence[str], held_bytes: int = HELD_BYTES) -> list[np.ndarray]:
    """The Gram matrix of each of `layers`' outputs over the inputs `x`.

    One forward pass over `x` reads every layer where their outputs over all of `x` fit in
    `held_bytes`; otherwise the layers are read in groups that do (a pass per group), and a
    layer too large alone (a ResNet stage at 224 px: 3 GB over 1,000 images) in slices of its
    values, a pass per slice, summed (`X X^T` is the sum of its slices'). So the memory held
    is bounded whatever the model and the probe set. Each pass runs in batches sized by the
    network's footprint (`memory.footprint`).
    """
    x = np.asarray(x)
    shapes = _per_input_values(model, x, layers)
    per_batch = footprint(model, x.shape[1:])
    grams: dict[str, np.ndarray] = {}
    for group in _groups(layers, shapes, len(x), held_bytes):
        batch = per_batch.forward_batch(kept=4 * sum(shapes[name] for name in group))
        if len(group) == 1 and 8 * len(x) * shapes[group[0]] > held_bytes:
            grams[group[0]] = _sliced_gram(model, x, group[0], shapes[group[0]], held_bytes, batch)
            continue
        outputs = layer_outputs(model, x, group, batch_size=batch)
        for name in group:
            grams[name] = gram(outputs.pop(name))
    return [grams[name] for name in layers]


def _sliced_gram(model, x, name: str, values: int, held_bytes: int, batch: int) -> np.ndarray:
    """The Gram matrix of one layer's outputs over `x`, its flattened values read in slices
    whose float64 copy over all of `x` fits in `held_bytes`: one pass over `x` per slice."""
    slices = math.ceil(8 * len(x) * values / held_bytes)
    bounds = np.linspace(0, values, slices + 1).astype(int)
    total = np.zeros((len(x), len(x)))
    for low, high in zip(bounds[:-1], bounds[1:], strict=True):
        pieces = []
        for begin in range(0, len(x), batch):
            out = layer_outputs(model, x[begin : begin + batch], name)[name]
            pieces.append(out.reshape(len(out), -1)[:, low:high].copy())
        total += gram(np.concatenate(pieces))
    return total


def _per_input_values(model, x, layers: Sequence[str]) -> dict[str, int]:
    """Values each layer outputs per input, from one call on one input."""
    outputs = layer_outputs(model, x[:1], layers)
    return {name: int(np.prod(out.shape[1:])) for name, out in outputs.items()}


def _groups(
    layers: Sequence[str], shapes: dict[str, int], n: int, held_bytes: int
) -> list[list[str]]:
    """`layers` in consecutive groups whose outputs over n inputs fit in `held_bytes` (a layer
    larger than that alone is a group of its own)."""
    groups: list[list[str]] = [[]]
    held = 0
    for name in layers:
        size = 4 * n * shapes[name]
        if groups[-1] and held + size > held_bytes:
            groups.append([])
            held = 0
        groups[-1].append(name)
        held += size
    return [g for g in groups if g]


def layer_similarity(
    model_a,
    model_b,
    x,
    layers_a: Sequence[str] | None = None,
    layers_b: Sequence[str] | None = None,
    debiased: bool = False,
) -> tuple[np.ndarray, list[str], list[str]]:
    """Linear CKA between every compared layer of `model_a` and every one of `model_b`.

    Args:
        model_a, model_b: Keras 3 models taking the same inputs (any architectures).
        x: `(n, ...)` the inputs both see (a probe set: a few hundred to a few thousand).
        layers_a, layers_b: layer names. Default: `default_similarity_layers` of each model.
        debiased: see `cka`.

    Returns:
        `(matrix, layers_a, layers_b)`: `matrix[i, j]` is the CKA of `layers_a[i]` and
        `layers_b[j]`, float64.
    """
    x = np.asarray(x)
    layers_a = list(layers_a or default_similarity_layers(model_a, x.shape[1:]))
    layers_b = list(layers_b or default_similarity_layers(model_b, x.shape[1:]))
    grams_a = layer_grams(model_a, x, layers_a)
    grams_b = layer_grams(model_b, x, layers_b)
    return cka_of_grams(grams_a, grams_b, debiased), layers_a, layers_b
