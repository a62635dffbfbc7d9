"""A private copy of the model being trained, for model work done off the training thread.

Some captures need the network as it is at the moment of the capture (gradient ascent, the
exemplar search, the probe's feature maps), but that work takes longer than a training step.
So at capture time the training thread only copies the weights (`snapshot`, a millisecond
for the MNIST nets, 0.1 s and 100 MB for ResNet50; the captures of one moment share one
copy), and a background task loads them into a copy of the model made by
`keras.models.clone_model` (new layers, new variables: nothing is shared with the live model)
and works on that copy while training goes on.

Copies are pooled by architecture (the model's config and input shape): a new model of the
same architecture, the next fit of a sweep say, reuses the copy made for the last one, and with
it every compiled function cached on that copy (`techniques` cache them per model object), so
they are traced once per process and architecture, not once per fit. The pool keeps the
`POOL_SIZE` architectures used last. A copy has a lock: one task at a time loads weights into
it and works on it (`ModelCopy.loaded`), so captures of one fit can share it.

Under a capture budget a model whose weights take over 64 MB (ResNet50, not MobileNet) gets no
copy: its captures' reads are small, and they read the live model on the training thread
instead (`Capture.model_copy`).

A model that `clone_model` cannot copy (a subclassed model, a layer that cannot be rebuilt from
its config) gets no copy (`private_copy` returns None): its captures then do their model work
on the training thread, as before.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import keras
import numpy as np

logger = logging.getLogger(__name__)

COPY_BYTES = 64 * 2**20  # under a budget, the most weights a model copied for captures holds
POOL_SIZE = 2  # architectures whose copies (and compiled functions) are kept
_POOL: OrderedDict[str, ModelCopy] = OrderedDict()
_POOL_LOCK = threading.Lock()
_CANNOT = object()  # a pool entry for an architecture clone_model failed on
_SNAPSHOTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> Snapshot
_WAITED = threading.local()  # .seconds: this thread's time waiting for a copy's lock
_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> architecture key


class Snapshot(list):
    """Copies of a model's weights, in `model.weights` order (a list that can be weakly
    referenced: a copy remembers which snapshot it holds without keeping it alive)."""


def snapshot(model) -> Snapshot:
    """Copies of all the model's weights now (for `ModelCopy.loaded`). Captures that read the
    model at the same moment (between the same two batches) share one: `forget_snapshot`
    runs before each batch."""
    found = _SNAPSHOTS.get(model)
    if found is None:
        found = Snapshot(np.array(keras.ops.convert_to_numpy(w), copy=True) for w in model.weights)
        _SNAPSHOTS[model] = found
    return found


def forget_snapshot(model) -> None:
    """The model is about to change (a batch, a new fit): the next `snapshot` copies afresh."""
    if model is not None:
        _SNAPSHOTS.pop(model, None)


class ModelCopy:
    """A clone of a model, built, with a lock; see the module docstring."""

    def __init__(self, model: keras.Model):
        self.model = model
        self._lock = threading.Lock()
        self._holds: weakref.ref | None = None  # the snapshot loaded last

    @contextmanager
    def loaded(self, weights: Snapshot | list[np.ndarray]) -> Iterator[keras.Model]:
        """The copy holding `weights` (a `snapshot`), for as long as the `with` lasts."""
        with self._locked():
            held = self._holds() if self._holds is not None else None
            if held is not weights:
                self._holds = None
                self.model.set_weights(weights)
                if isinstance(weights, Snapshot):
                    self._holds = weakref.ref(weights)
            yield self.model

    @contextmanager
    def held(self) -> Iterator[keras.Model]:
        """The copy as it is (its architecture, for planning), for as long as the `with` lasts."""
        with self._locked():
            yield self.model

    @contextmanager
    def _locked(self) -> Iterator[None]:
        start = time.perf_counter()
        with self._lock:
            _WAITED.seconds = waited() + time.perf_counter() - start
            yield


def waited() -> float:
    """Seconds this thread has spent waiting for a copy another capture was working on (not
    its own work: a capture's measured cost leaves it out)."""
    return getattr(_WAITED, "seconds", 0.0)


def private_copy(model) -> ModelCopy | None:
    """A `ModelCopy` of the built `model`, from the pool or cloned now; None where `model`
    cannot be cloned. Runs on the training thread (cloning needs the live model); cloning
    leaves Python's and NumPy's global random state as it found it, so training draws the
    same numbers with or without captures."""
    key = _architecture_of(model)
    with _POOL_LOCK:
        found = _POOL.get(key) if key is not None else None
        if found is not None:
            _POOL.move_to_end(key)
            return None if found is _CANNOT else found
    copy = _clone(model)
    if key is not None:
        with _POOL_LOCK:
            _POOL[key] = _CANNOT if copy is None else copy
            while len(_POOL) > POOL_SIZE:
                _POOL.popitem(last=False)
    return copy


def copy_for(model, fraction: float | None) -> ModelCopy | None:
    """The private copy a capture of a fit with capture budget `fraction` reads, or None:
    read the live model on the training thread at the capture's moment (and draw in the
    background). Under a budget a model whose weights take over `COPY_BYTES` gets no copy:
    its budgeted captures are small, while the copy's weights, their snapshot and its reads
    beside the training step's own activations cost more memory than the overlap saves time
    (ResNet50V2 at 128 px: 0.3 GB and 0.5 GB more at peak)."""
    if fraction is not None and model.count_params() * 4 > COPY_BYTES:
        return None
    return private_copy(model)


def _architecture_of(model) -> str | None:
    """`_architecture(model)`, remembered per model while its layers and weights are the same
    (a model's config takes a tenth of a second to write out for ResNet50)."""
    size = (len(model.layers), len(model.weights))
    found = _KEYS.get(model)
    if found is None or found[0] != size:
        found = _KEYS[model] = (size, _architecture(model))
    return found[1]


def _architecture(model) -> str | None:
    """What makes two models the same network: class, input shape and config, but not the
    model's own name nor its inputs' (numbered afresh for each model); None where the model
    has no config (it is then cloned, or not, but never pooled)."""
    try:
        config = {k: v for k, v in model.get_config().items() if k != "name"}
        shape = [tuple(t.shape) for t in model.inputs]
        text = json.dumps(config, sort_keys=True, default=repr)
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return None
    for i, name in enumerate(_input_names(config)):
        text = text.replace(json.dumps(name), f'"<input {i}>"')
    return f"{type(model).__module__}.{type(model).__qualname__}|{shape}|{text}"


def _input_names(config: Any) -> list[str]:
    """The names of the InputLayers anywhere in a model's config."""
    if isinstance(config, list):
        return [name for item in config for name in _input_names(item)]
    if not isinstance(config, dict):
        return []
    names = [name for value in config.values() for name in _input_names(value)]
    if config.get("class_name") == "InputLayer":
        names.append(config.get("config", {}).get("name"))
    return [name for name in names if isinstance(name, str)]


def _clone(model) -> ModelCopy | None:
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        clone = keras.models.clone_model(model)
        if not clone.built:
            clone.build(model.inputs[0].shape)
        if [w.shape for w in clone.weights] != [w.shape for w in model.weights]:
            raise ValueError("the clone's weights differ from the model's")
    except Exception as error:  # any failure means: work on the live model
        logger.debug(f"{model.name!r} cannot be copied ({error}); captures work on it in place")
        return None
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    return ModelCopy(clone)
