"""Layers worth showing in a deep network: one per stage, the last at each spatial resolution.

A ResNet50 has 53 convolutions and 100 more layers around them; a mural or atlas of each is
more than anyone reads, and more than a capture can afford beside training. What changes from
stage to stage is the resolution: each stage ends where the next one halves it. So by default a
capture shows, for each spatial resolution the data passes through after the first
convolution, the last layer (in call order) whose output has that resolution: for ResNet50 at
160 px `conv1_relu, conv2_block3_out, conv3_block4_out, conv4_block6_out, conv5_block3_out`.
Padding, cropping and pass-through layers (dropout, reshapes) are never chosen, a 1x1 output is
a pooled vector (squeeze-excitation, a convolutional head), not a map, and what comes before
the first convolution (rescaling, normalisation of the input) is not a stage.

A small net already has one layer of each kind per resolution (the 30/15 MNIST net: conv1 at
24 px, conv2 at 10 px), and `default_layers` keeps all of them there, so it shows what it
always did.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from convwatch.techniques.layers import _NO_OPS, KINDS, find_layers, layer_paths
from convwatch.techniques.traced import example_shape, traced_calls

_SKIPPED = _NO_OPS + (keras.layers.ZeroPadding2D, keras.layers.Cropping2D)


def stage_layers(model, image_shape=None) -> list[str]:
    """Canonical names of the last layer at each spatial resolution, in the order the
    resolutions are first reached (see the module docstring).

    Args:
        model: a Keras 3 model on images (Sequential, functional, branching, nested).
        image_shape: `(H, W, C)`. Defaults to the model's input shape.
    """
    return _choose(model, image_shape, None)[1]


def default_layers(model, kinds: Sequence[str], image_shape=None) -> list[str]:
    """The layers a capture shows by default: every layer of `kinds` (`find_layers`, in model
    order) where no resolution has two of them with spatial output, else `stage_layers`."""
    return _choose(model, image_shape, kinds)[0]


def _choose(model, image_shape, kinds) -> tuple[list[str], list[str]]:
    """`(default layers for kinds, stage layers)` from one symbolic call of the model."""
    names = {path: name for name, path in layer_paths(model).items()}
    classes = tuple(c for kind in kinds or () for c in KINDS[kind])
    last: dict[tuple, str] = {}  # resolution -> layer path; insertion order = first reached
    of_kinds: dict[tuple, set[str]] = {}  # resolution -> paths of `kinds` layers there
    started = False
    for call in traced_calls(model, example_shape(model, image_shape)):
        started = started or isinstance(call.layer, KINDS["conv"])
        if len(call.shapes) != 1 or len(call.shapes[0]) != 4:
            continue
        resolution = tuple(call.shapes[0][1:3])
        if resolution == (1, 1):  # a pooled vector (squeeze-excitation, a conv head)
            continue
        if classes and isinstance(call.layer, classes):
            of_kinds.setdefault(resolution, set()).add(call.path)
        if started and not isinstance(call.layer, _SKIPPED):
            last[resolution] = call.path
    stages = [names.get(path, path) for path in last.values()]
    if kinds is None or all(len(paths) <= 1 for paths in of_kinds.values()):
        return (find_layers(model, kinds) if kinds else stages), stages
    return stages, stages
