"""How much memory a pass of one example through a network holds, and batch sizes from it.

A capture's forward pass over probe images (or an ascent's forward and backward pass over
pictures) must fit beside training, whatever the network: 250 images at once through ResNet50
at 160 px hold about 14 GB, 250 digits through the 30/15 net a few MB. So batches are sized by
bytes, never by a fixed count. The figures come from the layers' output shapes, read off a
symbolic call of the model on one example (nested models walked into), at 4 bytes a value
(float32; a float16 policy holds less, so the estimate errs on the safe side):

- `largest`: the biggest single layer output.
- `total`: every layer output together. A gradient keeps them all for the backward pass, and
  so does an eager call of a functional Keras model (it keeps every tensor until it returns:
  250 images through ResNet50 at 160 px measured 14 GB, `total` says 18 GB).
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from convwatch.techniques.activations import layer_outputs
from convwatch.techniques.layers import layer_paths
from convwatch.techniques.traced import example_shape, traced_calls

FORWARD_BYTES = 128 * 2**20  # what one forward batch of a capture may hold in flight
GRADIENT_BYTES = 256 * 2**20  # what one batch of an ascent (forward and backward) may hold
MAX_BATCH = 1024
_BYTES_PER_VALUE = 4
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {shape: Footprint}
_COSTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {shape: ForwardCost}


@dataclass(frozen=True)
class Footprint:
    """Bytes one example's pass holds: its largest layer output, and all outputs together."""

    largest: int
    total: int

    def forward_batch(self, kept: int = 0, budget: int = FORWARD_BYTES) -> int:
        """Examples per inference call within `budget` bytes, where each also returns `kept`
        bytes of outputs (the layers a capture reads)."""
        return batch_for(self.total + kept, budget)

    def gradient_batch(self, budget: int = GRADIENT_BYTES) -> int:
        """Examples per forward-and-backward call within `budget` bytes."""
        return batch_for(2 * self.total, budget)


def batch_for(per_item: int, budget: int, cap: int = MAX_BATCH) -> int:
    """How many items of `per_item` bytes fit in `budget`: at least 1, at most `cap`."""
    return int(np.clip(budget // max(int(per_item), 1), 1, cap))


def footprint(model, image_shape=None) -> Footprint:
    """The `Footprint` of one example of shape `image_shape` (defaults to the model's input
    shape) through `model` (Sequential, functional, nested; built or not, given a shape)."""
    shape = example_shape(model, image_shape)
    per_model = _CACHE.setdefault(model, {})
    if shape not in per_model:
        sizes = [
            int(np.prod([d or 1 for d in out[1:]]))
            for call in traced_calls(model, shape)
            for out in call.shapes
        ] or [int(np.prod(shape))]
        per_model[shape] = Footprint(
            largest=max(sizes) * _BYTES_PER_VALUE, total=sum(sizes) * _BYTES_PER_VALUE
        )
    return per_model[shape]


@dataclass(frozen=True)
class ForwardCost:
    """What an eager forward pass of the whole network costs: a part per call (Python
    dispatching every layer: 0.1 s on MobileNetV3Small whatever the batch, most of a
    one-image call) and a part per example. A capture predicts its own cost from it."""

    per_call: float
    per_example: float

    def seconds(self, examples: int, batch: int, share: float = 1.0) -> float:
        """Seconds for `examples` inputs in calls of `batch`, through `share` of the network."""
        calls = math.ceil(max(examples, 1) / max(batch, 1))
        return share * (calls * self.per_call + examples * self.per_example)


def forward_cost(model, example, batch: int = 8) -> ForwardCost:
    """The `ForwardCost` of `model` on inputs like `example` (an array of at least one), timed
    after a first call that builds and traces: one call on one example, one on up to `batch`
    (8 at most) copies of it. Timed once per model and input shape."""
    shape = tuple(int(d) for d in np.shape(example)[1:])
    per_model = _COSTS.setdefault(model, {})
    if shape not in per_model:
        one = np.asarray(example[:1])
        many = np.repeat(one, int(np.clip(batch, 1, 8)), axis=0)
        model(one, training=False)
        start = time.perf_counter()
        model(one, training=False)
        single = time.perf_counter() - start
        if len(many) == 1:
            per_model[shape] = ForwardCost(0.0, single)
        else:
            start = time.perf_counter()
            model(many, training=False)
            took = time.perf_counter() - start
            # Timings are noisy: at least a tenth of the larger call's mean is per example.
            per_example = max((took - single) / (len(many) - 1), 0.1 * took / len(many))
            per_model[shape] = ForwardCost(max(single - per_example, 0.0), per_example)
    return per_model[shape]


def read_cost(model, example, layers: Sequence[str], batch: int) -> ForwardCost:
    """The `ForwardCost` of reading `layers` with `layer_outputs(..., compiled=True)` in calls
    of `batch` inputs like `example`: the second of two calls timed (the first traces)."""
    inputs = np.repeat(np.asarray(example[:1]), batch, axis=0)
    layer_outputs(model, inputs, layers, batch_size=batch, compiled=True)
    start = time.perf_counter()
    layer_outputs(model, inputs, layers, batch_size=batch, compiled=True)
    return ForwardCost(time.perf_counter() - start, 0.0)


def depth_shares(model, names: Sequence[str], image_shape=None) -> dict[str, float]:
    """Per layer, the share of the network's activations computed up to its (first) call:
    about the share of a full forward pass it takes to reach it (at least 5%)."""
    paths = {layer_paths(model)[name]: name for name in names}
    sizes, reached = [], {}
    for call in traced_calls(model, example_shape(model, image_shape)):
        sizes.append(sum(int(np.prod([d or 1 for d in out[1:]])) for out in call.shapes))
        if call.path in paths:
            reached.setdefault(paths[call.path], sum(sizes))
    total = max(sum(sizes), 1)
    return {name: max(0.05, reached.get(name, total) / total) for name in names}
