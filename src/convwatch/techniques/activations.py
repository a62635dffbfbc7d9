"""Layer outputs (feature maps, pooled maps, dense activations) for a batch, in one call."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from convwatch.techniques.extractor import feature_extractor
from convwatch.techniques.layers import find_layers


def layer_outputs(model, x, layers: Sequence[str] | str | None = None) -> dict[str, np.ndarray]:
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
    extractor = feature_extractor(model, names, sample=x)
    outputs = keras.tree.flatten(extractor(x, training=False))
    return {name: keras.ops.convert_to_numpy(out) for name, out in zip(names, outputs, strict=True)}
