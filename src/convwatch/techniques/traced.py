"""Every layer's output shape on one example, in the order the model calls its layers.

The model is called symbolically (no data, no compute): Sequential models layer by layer,
functional ones through `keras.models.clone_model` with the same layer objects and a recording
`call_function`, nested models walked into and named by path (`"block/conv"`, as `layers.py`
names them). What the stage choice (`stages.py`) and the memory estimate (`memory.py`) read.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import keras

from convwatch.techniques.layers import is_graph_model, layer_paths


@dataclass(frozen=True)
class Traced:
    """One call of a leaf layer: its path, the layer and its outputs' shapes (batch 1)."""

    path: str
    layer: keras.Layer
    shapes: tuple[tuple[int | None, ...], ...]


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {(shape, layers): calls}
_LOCK = threading.Lock()


def traced_calls(model, example_shape) -> list[Traced]:
    """One `Traced` per leaf-layer call of `model` on a `(1, *example_shape)` input, in call
    order (a layer called twice is listed twice). Traced once per model and shape (a model's
    architecture does not change; the stage choice, the memory estimate and the atlas plan
    all read it)."""
    shape = tuple(example_shape)
    key = (shape, len(model.layers))  # a Sequential model may grow
    with _LOCK:
        found = _CACHE.get(model, {}).get(key)
    if found is None:
        found = _trace(model, shape)
        with _LOCK:
            _CACHE.setdefault(model, {})[key] = found
    return list(found)


def _trace(model, example_shape) -> list[Traced]:
    calls: list[Traced] = []

    def call(prefix: str, layer, *args, **kwargs):
        if is_graph_model(layer):
            return replay(layer, prefix + layer.name + "/", args[0])
        outputs = layer(*args, **kwargs)
        shapes = tuple(tuple(t.shape) for t in keras.tree.flatten(outputs) if hasattr(t, "shape"))
        calls.append(Traced(prefix + layer.name, layer, shapes))
        return outputs

    def replay(inner, prefix: str, value):
        if isinstance(inner, keras.Sequential):
            for layer in inner.layers:
                if not isinstance(layer, keras.layers.InputLayer):
                    value = call(prefix, layer, value)
            return value
        clone = keras.models.clone_model(
            inner, clone_function=_same, call_function=lambda *a, **k: call(prefix, *a, **k)
        )
        return keras.Model(clone.inputs, clone.output)(value)

    replay(model, "", keras.KerasTensor((1, *example_shape)))
    return calls


def output_shapes(model, image_shape=None) -> dict[str, tuple[int | None, ...]]:
    """Canonical layer name -> the shape of its (first) output on one example (batch 1)."""
    names = {path: name for name, path in layer_paths(model).items()}
    found: dict[str, tuple[int | None, ...]] = {}
    for call in traced_calls(model, example_shape(model, image_shape)):
        if call.shapes:
            found.setdefault(names.get(call.path, call.path), call.shapes[0])
    return found


def example_shape(model, image_shape=None) -> tuple[int, ...]:
    """`image_shape` as ints, or the model's input shape without the batch axis; ValueError
    where neither is known."""
    if image_shape is not None:
        return tuple(int(d) for d in image_shape)
    try:
        shape = tuple(model.inputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError):
        shape = ()
    if not shape or None in shape:
        raise ValueError(
            f"Model {model.name!r} has no fixed input shape; pass image_shape=(H, W, C)."
        )
    return tuple(int(d) for d in shape)


def _same(layer):
    return layer
