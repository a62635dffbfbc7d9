"""Find and name the layers of any Keras 3 model, walking into nested models.

Naming: every layer has a *path*, its name prefixed by the names of the models that contain it
(`"block/conv"` for layer `conv` inside the nested model `block`; a top-level layer's path is its
own name). The *canonical* name that convwatch reports is the bare layer name when no other layer
anywhere in the tree has that name, and the full path otherwise, so the usual case (uniquely named
layers) reads like `model.summary()` and a clash can never merge two layers. Lookups accept both
the bare name (when unique) and the full path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

import keras
import numpy as np

_L = keras.layers
KINDS = {
    "conv": (_L.Conv1D, _L.Conv2D, _L.Conv3D, _L.SeparableConv1D, _L.SeparableConv2D)
    + (_L.DepthwiseConv1D, _L.DepthwiseConv2D, _L.Conv1DTranspose, _L.Conv2DTranspose)
    + (_L.Conv3DTranspose,),
    "pool": (_L.MaxPooling1D, _L.MaxPooling2D, _L.MaxPooling3D, _L.AveragePooling1D)
    + (_L.AveragePooling2D, _L.AveragePooling3D, _L.GlobalMaxPooling1D, _L.GlobalMaxPooling2D)
    + (_L.GlobalMaxPooling3D, _L.GlobalAveragePooling1D, _L.GlobalAveragePooling2D)
    + (_L.GlobalAveragePooling3D,),
    "dense": (_L.Dense,),
}
# Layers whose output is the same numbers as their input (or noise on them at training time).
_NO_OPS = (_L.Dropout, _L.SpatialDropout1D, _L.SpatialDropout2D, _L.SpatialDropout3D)
_NO_OPS += (_L.GaussianNoise, _L.GaussianDropout, _L.AlphaDropout, _L.Flatten, _L.Reshape)
_NO_OPS += (_L.Identity, _L.InputLayer, _L.ActivityRegularization)
# Layers that finish the output layer's job (`Dense(10)` then `Activation("softmax")`).
_OUTPUT_TAILS = _NO_OPS + (_L.Activation, _L.Softmax)


def is_graph_model(layer) -> bool:
    """True for a Sequential or functional model (one whose layers convwatch can walk into)."""
    if isinstance(layer, keras.Sequential):
        return True
    return isinstance(layer, keras.Model) and bool(getattr(layer, "inputs", None))


def walk(model, prefix: str = "") -> Iterator[tuple[str, keras.Layer]]:
    """Yield `(path, layer)` for every layer, depth first; a nested model comes before its own."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue  # a functional model lists its inputs; they are not layers to watch
        path = prefix + layer.name
        yield path, layer
        if is_graph_model(layer):
            yield from walk(layer, path + "/")


def layer_paths(model) -> dict[str, str]:
    """Map canonical name -> path for every layer of `model`, in model order."""
    pairs = list(walk(model))
    counts = Counter(layer.name for _, layer in pairs)
    return {(layer.name if counts[layer.name] == 1 else path): path for path, layer in pairs}


def resolve(model, names: Sequence[str]) -> list[str]:
    """Return the path of each name (canonical, path or unique bare name); ValueError if unknown."""
    paths = layer_paths(model)
    known = set(paths.values())
    resolved = []
    for name in names:
        if name in known:
            resolved.append(name)
        elif name in paths:
            resolved.append(paths[name])
        else:
            raise ValueError(
                f"Model {model.name!r} has no layer named {name!r}. "
                f"Valid layer names: {', '.join(paths)}"
            )
    return resolved


def get_layer(model, name: str) -> keras.Layer:
    """The layer with canonical name or path `name`, inside nested models too."""
    path = resolve(model, [name])[0]
    return dict(walk(model))[path]


def find_layers(model, kinds: Sequence[str] = ("conv", "pool", "dense")) -> list[str]:
    """Canonical names of the layers of the given kinds, in model order.

    Args:
        model: a Keras 3 Sequential or functional model; nested models are walked into.
        kinds: any of `"conv"` (all convolutions), `"pool"` (max/average/global pooling) and
            `"dense"`. Defaults to all three.

    Returns:
        A list of layer names, usable with `layer_outputs` and `maximize_filters`.
    """
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise ValueError(f"Unknown layer kinds {unknown}. Valid kinds: {sorted(KINDS)}")
    classes = tuple(cls for kind in kinds for cls in KINDS[kind])
    paths = layer_paths(model)
    layers = dict(walk(model))
    return [name for name, path in paths.items() if isinstance(layers[path], classes)]


def _leaves(model) -> list[tuple[str, keras.Layer]]:
    """Canonical names and layers, nested models replaced by their own layers."""
    layers = dict(walk(model))
    return [
        (name, layers[path])
        for name, path in layer_paths(model).items()
        if not is_graph_model(layers[path])
    ]


def penultimate_layer(model) -> str:
    """Name of the last layer before the output layer whose output is not a copy of its input.

    The output layer is the last layer once trailing activations, dropout and reshapes are
    stripped (so `Dense(10) > Activation("softmax")` counts as one); walking back from it,
    Dropout/Flatten-like no-ops are skipped. For `... > Dense(128) > Dropout > Dense(10)` this
    is the `Dense(128)`: the features a t-SNE or projector view shows.
    """
    leaves = _leaves(model)
    while leaves and isinstance(leaves[-1][1], _OUTPUT_TAILS):
        leaves.pop()
    for name, layer in reversed(leaves[:-1]):
        if not isinstance(layer, _NO_OPS):
            return name
    raise ValueError(f"Model {model.name!r} has no layer before its output layer.")


def output_layer(model) -> str:
    """Name of the layer that gives the model's output: the last layer, reshapes and dropout
    after it skipped (an `Activation("softmax")` after a `Dense(10)` is the output)."""
    leaves = [(name, layer) for name, layer in _leaves(model) if not isinstance(layer, _NO_OPS)]
    if not leaves:
        raise ValueError(f"Model {model.name!r} has no layers.")
    return leaves[-1][0]


def first_conv_layer(model) -> str:
    """Name of the first convolution layer in model order (nested models included)."""
    convs = find_layers(model, ("conv",))
    if not convs:
        raise ValueError(f"Model {model.name!r} has no convolution layer.")
    return convs[0]


def filter_indices(filters: Sequence[int] | None, count: int, layer: str) -> np.ndarray:
    """The filter (channel, unit) indices asked for, as int64 `(F,)`: all `count` when
    `filters` is None; a ValueError naming `layer` when one is out of range or none is given."""
    chosen = np.arange(count) if filters is None else np.asarray(filters, dtype=np.int64)
    if chosen.ndim != 1 or chosen.size == 0 or chosen.min() < 0 or chosen.max() >= count:
        raise ValueError(
            f"Layer {layer!r} has {count} filters (0..{count - 1}). Received: filters={filters}"
        )
    return chosen
