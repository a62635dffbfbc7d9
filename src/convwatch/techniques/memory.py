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


def forward_seconds(model, example, layers: Sequence[str] | None = None) -> float:
    """Seconds one example takes through `model` up to `layers` (all of the model without),
    timed on a second call so that building and tracing are not counted; what a capture
    predicts its own cost from."""
    names = list(layers) if layers else None
    layer_outputs(model, example[:1], names)
    start = time.perf_counter()
    layer_outputs(model, example[:1], names)
    return time.perf_counter() - start


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
