"""A cached sub-model from a model's inputs to the outputs of any of its layers, nested ones too.

`keras.Model(model.inputs, layer.output)` fails for a layer inside a nested model ("Graph
disconnected": the layer's `output` lives in the nested model's own graph). So the model is
replayed on fresh inputs with the *same* layer objects (shared weights): Sequential models by
calling their layers in order, functional ones through `keras.models.clone_model` with an
identity `clone_function` and a recording `call_function`. A nested model that holds a wanted
layer is replayed the same way, recursively, and spliced in as one sub-model call.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence

import keras

from convwatch.techniques.fast_grad import fast_version
from convwatch.techniques.layers import is_graph_model, resolve
from convwatch.techniques.pre_activation import pre_activation_version

# model -> {tuple of layer paths: extractor}; entries go when the model is garbage-collected.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def ensure_built(model, sample=None) -> None:
    """Build a Sequential model that has never been called, by calling it on `sample[:1]`."""
    if model.built:
        return
    if sample is None:
        raise ValueError(
            f"Model {model.name!r} has never been called, so its input shape is unknown. "
            "Call it once, build it, or pass an input batch / image shape."
        )
    model(sample[:1])


def feature_extractor(
    model,
    names: Sequence[str],
    sample=None,
    fast_grad: bool = False,
    pre_activation: bool = False,
) -> keras.Model:
    """A model mapping `model`'s inputs to the outputs of the layers `names` (a list, in order).

    Args:
        model: a Keras 3 Sequential or functional model, built or not.
        names: canonical layer names or paths (see `convwatch.techniques.layers`).
        sample: an input batch, used only to build a Sequential model never called before.
        fast_grad: call first-layer Conv2Ds and non-overlapping MaxPooling2Ds through the
            wrappers of `fast_grad.py` (same values, faster gradient with respect to the
            input; for gradient ascent on images).
        pre_activation: give the named layers' outputs before their activation (Conv and
            Dense layers, see `pre_activation.py`); the layers after them still see the
            activated output.

    Returns:
        A cached `keras.Model` whose outputs are a list of the layer outputs, one per name.
    """
    paths = resolve(model, names)
    ensure_built(model, sample)
    per_model = _CACHE.setdefault(model, {})
    key = (tuple(paths), fast_grad, pre_activation)
    if key not in per_model:
        replay = _Replay(set(paths), fast_grad, pre_activation)
        per_model[key] = replay.extractor(model, paths, sample)
    return per_model[key]


def _same(layer):
    return layer  # "clone" each layer as itself: the extractor shares the model's weights


class _Replay:
    """Calls layers on new symbolic inputs, recording the outputs of the wanted paths."""

    def __init__(self, wanted: set[str], fast_grad: bool, pre_activation: bool = False):
        self.wanted, self.fast, self.pre, self.recorded = wanted, fast_grad, pre_activation, {}

    def extractor(self, model, paths: list[str], sample) -> keras.Model:
        if isinstance(model, keras.Sequential):
            inputs = keras.Input(batch_shape=_input_shape(model, sample))
            self.run_sequential(model, "", inputs)
        else:
            call = functools.partial(self.call, "")
            clone = keras.models.clone_model(model, clone_function=_same, call_function=call)
            inputs = clone.input
        outputs = [self.recorded[path] for path in paths]
        return keras.Model(inputs, outputs, name=f"{model.name}_layer_outputs")

    def call(self, prefix: str, layer, *args, **kwargs):
        """Call `layer` symbolically, replaying it if it is a model holding a wanted layer."""
        path = prefix + layer.name
        if is_graph_model(layer) and any(w.startswith(path + "/") for w in self.wanted):
            if isinstance(layer, keras.Sequential):
                y = self.run_sequential(layer, path + "/", args[0])
            else:
                y = self.run_functional(layer, path + "/", args[0])
        elif self.fast and len(args) == 1 and (wrapper := fast_version(layer, args[0])):
            y = wrapper(args[0])
        else:
            y = layer(*args, **kwargs)
        if path in self.wanted:
            if self.pre and len(args) == 1 and not is_graph_model(layer):
                wrapper = pre_activation_version(layer, args[0], self.fast)
                y_pre = wrapper(args[0]) if wrapper is not None else y
                self.recorded.setdefault(path, y_pre)
            self.recorded.setdefault(path, y)  # a shared layer reports its first call
        return y

    def run_sequential(self, model, prefix: str, x):
        for layer in model.layers:
            x = self.call(prefix, layer, x)
        return x

    def run_functional(self, model, prefix: str, x):
        """Replay a nested functional model on its own inputs, then call that replay on `x`."""
        inner = _Replay(
            {w[len(prefix) :] for w in self.wanted if w.startswith(prefix)}, self.fast, self.pre
        )
        call = functools.partial(inner.call, "")
        clone = keras.models.clone_model(model, clone_function=_same, call_function=call)
        order = sorted(inner.recorded)
        outputs = keras.tree.flatten(clone.output)
        replay = keras.Model(clone.input, outputs + [inner.recorded[path] for path in order])
        results = keras.tree.flatten(replay(x))
        for path, value in zip(order, results[len(outputs) :], strict=True):
            self.recorded.setdefault(prefix + path, value)
        return keras.tree.pack_sequence_as(clone.output, results[: len(outputs)])


def _input_shape(model, sample) -> tuple:
    try:
        return tuple(model.inputs[0].shape)
    except (AttributeError, IndexError, TypeError):  # built without a symbolic graph
        if sample is None:
            raise ValueError(f"Model {model.name!r} has no known input shape.") from None
        return (None, *sample.shape[1:])
