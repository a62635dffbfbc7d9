"""A feature extractor that takes images of any size, even from a model built for one size.

Deep Dream works on several image sizes (octaves) and style transfer on photos of whatever size
they come in, but a classifier like `fashion_cnn` is built on `Input((28, 28, 1))`. Its
convolution and pooling layers do not care about the size (their weights depend only on the
number of channels); only the model's input does. So a model that is a chain of layers is
replayed, layer object by layer object (same weights), on a new input with unknown height and
width, up to the last layer asked for. A model that already takes any size is only cut.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import keras

from convwatch.techniques import extractor
from convwatch.techniques.layers import find_layers, is_graph_model, resolve

# model -> {tuple of layer paths: extractor}; entries go when the model is garbage-collected.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def any_size_extractor(model, layers: Sequence[str]) -> keras.Model:
    """A model from images of any spatial size to the outputs of `layers`, sharing the weights.

    If `model`'s input already has unknown spatial dimensions (`keras.applications` models built
    with `input_shape=(None, None, 3)`), this is `model` cut at those layers. Otherwise the model
    must be a chain (a Sequential model, or a functional model in which every layer takes the
    previous layer's output; nested Sequential or chain-shaped functional blocks are walked
    into) and its layers are called in order on `keras.Input((None, None, C))` up to the last
    layer asked for. Layers past a `Flatten` (dense layers) still need the original size.

    Args:
        model: a built Keras 3 model taking `(N, H, W, C)` images.
        layers: layer names (canonical name or path, see `layers.py`); any layer kind, e.g.
            Inception's `"mixed4"` concatenations.

    Returns:
        A cached `keras.Model` with one output per name, in order (called, it returns a list,
        or a bare tensor for a single name, as every Keras model does).
    """
    if isinstance(layers, str):
        layers = [layers]
    if not layers:
        raise ValueError(f"`layers` must name at least one layer. Received: layers={layers}")
    try:
        paths = resolve(model, layers)
    except ValueError:
        unknown = [name for name in layers if not _known(model, name)]
        raise ValueError(
            f"Model {model.name!r} has no layer named {', '.join(map(repr, unknown))}. "
            f"Its convolution and pooling layers: {', '.join(find_layers(model, ('conv', 'pool')))}"
        ) from None
    extractor.ensure_built(model)
    per_model = _CACHE.setdefault(model, {})
    key = tuple(paths)
    if key not in per_model:
        shape = _input_shape(model)
        if all(dim is None for dim in shape[1:-1]):
            per_model[key] = extractor.feature_extractor(model, paths)
        else:
            per_model[key] = _replay_chain(model, paths, shape)
    return per_model[key]


def _known(model, name: str) -> bool:
    try:
        resolve(model, [name])
    except ValueError:
        return False
    return True


def _input_shape(model) -> tuple:
    try:
        shape = tuple(model.inputs[0].shape)
    except (AttributeError, IndexError, TypeError):
        shape = ()
    if len(shape) < 3 or len(model.inputs) != 1:
        raise ValueError(
            f"Model {model.name!r} must have one image input (N, ..., C). Received: {shape}"
        )
    return shape


def _replay_chain(model, paths: list[str], shape: tuple) -> keras.Model:
    """Call the chain's layers on an input of unknown size, recording the wanted outputs."""
    wanted = set(paths)
    inputs = keras.Input((None,) * (len(shape) - 2) + (shape[-1],), name=f"{model.name}_any_size")
    x, recorded = inputs, {}
    for path, layer in _chain(model, ""):
        if layer is not None:  # None marks the end of a nested model: its output is x
            x = layer(x)
        if path in wanted:
            recorded.setdefault(path, x)
        if len(recorded) == len(wanted):
            break
    return keras.Model(inputs, [recorded[p] for p in paths], name=f"{model.name}_any_size")


def _chain(model, prefix: str) -> list[tuple[str, keras.Layer | None]]:
    """`(path, layer)` for the leaf layers of a chain in call order; `(path, None)` after the
    leaves of a nested model `path`. ValueError if the model is not a chain."""
    steps = []
    for layer in _call_order(model):
        path = prefix + layer.name
        if is_graph_model(layer):
            steps += _chain(layer, path + "/") + [(path, None)]
        else:
            steps.append((path, layer))
    return steps


def _call_order(model) -> list[keras.Layer]:
    """The layers of `model` in the order they are called, checking that each takes the output
    of the one before (replayed with `clone_model`, which keeps the layer objects)."""
    if isinstance(model, keras.Sequential):
        return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    calls = []

    def record(layer, *args, **kwargs):
        outputs = layer(*args, **kwargs)
        calls.append((layer, keras.tree.flatten((args, kwargs)), outputs))
        return outputs

    clone = keras.models.clone_model(
        model, clone_function=lambda layer: layer, call_function=record
    )
    previous = clone.inputs
    for layer, arguments, outputs in calls:
        tensors = [a for a in arguments if isinstance(a, keras.KerasTensor)]
        if len(previous) != 1 or len(tensors) != 1 or tensors[0] is not previous[0]:
            raise ValueError(
                f"Model {model.name!r} is not a chain of layers (layer {layer.name!r} does not "
                "take exactly the previous layer's output), so it cannot be rebuilt for images "
                "of another size. Build it on an input of shape (None, None, C) instead."
            )
        previous = keras.tree.flatten(outputs)
    return [layer for layer, _, _ in calls]
