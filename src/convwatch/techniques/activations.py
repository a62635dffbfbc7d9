"""Layer outputs (feature maps, pooled maps, dense activations) for a batch, in one call."""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import keras
import numpy as np

from convwatch.techniques.autodiff import compile_function
from convwatch.techniques.extractor import feature_extractor
from convwatch.techniques.layers import find_layers

_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # extractor -> function


def layer_outputs(
    model,
    x,
    layers: Sequence[str] | str | None = None,
    batch_size: int | None = None,
    compiled: bool = False,
) -> dict[str, np.ndarray]:
    """Outputs of the named layers of `model` for the batch `x`.

    All layers come from ONE call of a sub-model (shared weights, built once per model and set
    of names and cached, so calling this every epoch costs one forward pass). Works on
    Sequential models (built or not: one never called is built by calling it on `x`),
    functional models with branches, and nested models (walked into; see
    `convwatch.techniques.layers` for how nested layers are named: `"conv"`, or
    `"block/conv"` when the bare name is not unique).

    Args:
        model: a Keras 3 Sequential or functional model.
        x: an input batch, e.g. shape `(n, H, W, C)`.
        layers: layer names (canonical or path). Defaults to every convolution, pooling and
            dense layer (`find_layers(model)`).
        batch_size: at most this many inputs per call, so that the layers' outputs in flight
            stay small (a capture beside training). Defaults to all of `x` in one call.
        compiled: call a compiled sub-model (`autodiff.compile_function`), every call padded
            to `batch_size` inputs so that it is traced once: for a caller that reads the
            same layers again and again (a capture, every epoch). An eager call of a
            keras.applications network spends 0.1 s dispatching its layers whatever the
            batch; a compiled one a few ms, after a trace of about half a second.

    Returns:
        `{name: array}` in the order asked, with the names as given; each array has the
        layer's output shape with batch size n, e.g. `(n, h, w, filters)` for a Conv2D and
        `(n, units)` for a Dense layer. Unknown names raise ValueError listing the valid ones.
    """
    if isinstance(layers, str):
        layers = [layers]
    names = list(dict.fromkeys(layers)) if layers is not None else find_layers(model)
    if not names:
        raise ValueError(f"No layers to read from model {model.name!r}. Received: layers={layers}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be at least 1. Received: batch_size={batch_size}")
    extractor = feature_extractor(model, names, sample=x)
    step = batch_size or max(len(x), 1)
    if compiled:
        run, chunks = _compiled(extractor), []
        for begin in range(0, len(x), step):
            part = x[begin : begin + step]
            chunks.append([out[: len(part)] for out in run(_padded(part, step))])
    else:
        chunks = [
            keras.tree.flatten(extractor(x[begin : begin + step], training=False))
            for begin in range(0, max(len(x), 1), step)
        ]
    return {
        name: np.concatenate([keras.ops.convert_to_numpy(chunk[i]) for chunk in chunks])
        for i, name in enumerate(names)
    }


def _compiled(extractor):
    """`batch -> [outputs]` compiled, once per extractor."""
    if extractor not in _COMPILED:
        _COMPILED[extractor] = compile_function(
            lambda batch: keras.tree.flatten(extractor(batch, training=False)),
            [extractor],
            static_shapes=True,
        )
    return _COMPILED[extractor]


def _padded(chunk, rows: int):
    """`chunk` with its last input repeated up to `rows` (one traced shape for every call)."""
    chunk = np.asarray(chunk)
    if len(chunk) == rows:
        return chunk
    return np.concatenate([chunk, np.repeat(chunk[-1:], rows - len(chunk), axis=0)])
