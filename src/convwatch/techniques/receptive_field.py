"""Which input pixels a unit of a layer sees: its receptive field, from the layers' geometry.

Along each spatial axis, the units of a layer form a grid on the input: unit `i` sees input rows
`[start + i * jump, start + i * jump + size)`. The grid is composed layer by layer from the
input (`start=0, jump=1, size=1`): a convolution or pooling window of effective size `k`
(`dilation * (k - 1) + 1`), stride `s` and leading padding `p` makes it `start - p * jump`,
`jump * s`, `size + (k - 1) * jump`. `"same"` padding pads as TensorFlow does (the extra pixel
at the end). Past a Flatten, a global pooling or a transposed convolution, units are taken to
see the whole image; zero padding and cropping shift the grid; any other layer (activations,
normalisation, dropout, Add, Concatenate, a Dense layer on a map) is taken to keep positions (a
merge of grids takes their bounding box; a 1x1 gate multiplied onto a map, as in a
squeeze-excitation block, keeps the map's grid). Models are walked as the extractors walk them:
Sequential ones layer by layer, functional ones in call order (replayed with
`keras.models.clone_model`), nested models inside their parent.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass

import keras

from convwatch.techniques.layers import is_graph_model, resolve

# model -> {(height, width, layers): {path: axes}}: traced once, as a model's architecture is fixed
_GRIDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

_L = keras.layers
# Layers whose units see everything before them (a Dense layer on a map keeps positions).
_WHOLE = (_L.Flatten, _L.Reshape, _L.UpSampling2D, _L.Resizing, _L.GlobalMaxPooling2D)
_WHOLE += (_L.GlobalAveragePooling2D,)
# Transposed convolutions spread each input over several outputs: taken to see everything.
_WHOLE += (_L.Conv1DTranspose, _L.Conv2DTranspose, _L.Conv3DTranspose)
_POOLS = (_L.MaxPooling2D, _L.AveragePooling2D)


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a layer's grid: unit i sees `[start + i * jump, ... + size)`."""

    start: int
    jump: int
    size: int
    length: int  # units along the axis

    def window(self, i: int) -> tuple[int, int]:
        """`(first input index, size)` of unit `i`."""
        return self.start + i * self.jump, self.size


@dataclass(frozen=True)
class Grid:
    """A conv layer's units on the input image; `axes` is None when each unit sees it whole."""

    axes: tuple[Axis, Axis] | None
    image: tuple[int, int]  # input height and width

    @property
    def centre(self) -> tuple[int, int]:
        """The centre unit, `((h - 1) // 2, (w - 1) // 2)`; (0, 0) for a whole-image unit."""
        return tuple((a.length - 1) // 2 for a in self.axes) if self.axes else (0, 0)

    def window(self, row: int, col: int) -> tuple[int, int, int, int]:
        """`(top, left, height, width)` of unit (row, col); may cross the image border."""
        if self.axes is None:
            return 0, 0, *self.image
        (top, height), (left, width) = self.axes[0].window(row), self.axes[1].window(col)
        return top, left, height, width


def receptive_field(model, layer: str, image_shape=None) -> tuple[int, int, int, int]:
    """The input window `(top, left, height, width)` of the centre unit of `layer`.

    The centre unit is `((h - 1) // 2, (w - 1) // 2)` of the layer's `(h, w)` map; the window
    is what its value can depend on (with `"same"` padding it may start above or left of the
    image, top or left < 0). A Dense layer, or any layer past a Flatten, sees the whole image.
    E.g. the 30/15 MNIST net: conv1 (5x5 valid) `(11, 11, 5, 5)`; conv2, after a 2x2 pool,
    `(8, 8, 10, 10)`.

    Args:
        model: a Keras 3 model on images `(N, H, W, C)` (Sequential, functional, nested).
        layer: the layer's canonical name or path (see `layers.py`).
        image_shape: `(H, W, C)`. Defaults to the model's input shape.
    """
    grid = layer_grid(model, layer, image_shape)
    return grid.window(*grid.centre)


def layer_grid(model, layer: str, image_shape=None) -> Grid:
    """The grid of `layer`'s units on the input image (see the module docstring)."""
    if image_shape is None:
        try:
            image_shape = tuple(model.inputs[0].shape[1:])
        except (AttributeError, IndexError, TypeError):
            image_shape = ()
    if len(image_shape) != 3 or None in tuple(image_shape)[:2]:
        raise ValueError(f"Model {model.name!r} has no fixed image input; pass image_shape.")
    height, width = int(image_shape[0]), int(image_shape[1])
    path = resolve(model, [layer])[0]
    per_model = _GRIDS.setdefault(model, {})
    key = (height, width, len(model.layers))  # a Sequential model may grow
    if key not in per_model:  # every layer's, in one symbolic pass
        tracer = _Tracer()
        tracer.model((Axis(0, 1, 1, height), Axis(0, 1, 1, width)), model, "")
        per_model[key] = tracer.found
    found = per_model[key]
    if path not in found:
        raise ValueError(f"Layer {layer!r} is not called on the way from the model's input.")
    return Grid(found[path], (height, width))


class _Tracer:
    """Carries grids through a model in call order, recording each layer's by its path."""

    def __init__(self):
        self.found: dict[str, tuple | None] = {}

    def model(self, axes, model, prefix: str):
        if isinstance(model, keras.Sequential):
            for layer in model.layers:
                axes = self.layer(axes, prefix, layer)
            return axes
        grids: dict[int, tuple | None] = {}

        def call(layer, *args, **kwargs):
            tensors = _positional(
                [t for t in keras.tree.flatten((args, kwargs)) if hasattr(t, "shape")]
            )
            inputs = [grids.get(id(t), axes) for t in tensors]  # unknown: a model input
            outputs = layer(*args, **kwargs)
            grid = self.layer(_union(inputs) if inputs else axes, prefix, layer)
            for tensor in keras.tree.flatten(outputs):
                grids[id(tensor)] = grid
            return outputs

        clone = keras.models.clone_model(model, clone_function=_same, call_function=call)
        return grids.get(id(keras.tree.flatten(clone.outputs)[0]), axes)

    def layer(self, axes, prefix: str, layer):
        path = prefix + layer.name
        if isinstance(layer, _L.InputLayer):
            return axes
        out = self.model(axes, layer, path + "/") if is_graph_model(layer) else _step(axes, layer)
        self.found.setdefault(path, out)
        return out


def _same(layer):
    return layer


def _positional(tensors: list) -> list:
    """The inputs of a merge that carry positions: a 1x1 map broadcast over a larger one (a
    squeeze-excitation gate) scales the map's units without moving them, so it is left out."""
    spatial = [t for t in tensors if len(t.shape) == 4 and tuple(t.shape[1:3]) != (1, 1)]
    if not spatial or len(spatial) == len(tensors):
        return tensors
    return [t for t in tensors if len(t.shape) != 4 or tuple(t.shape[1:3]) != (1, 1)]


def _union(grids: list) -> tuple[Axis, Axis] | None:
    """The bounding box of several grids of the same positions (a merge layer's inputs)."""
    if any(g is None for g in grids):
        return None
    return tuple(
        functools.reduce(
            lambda a, b: Axis(
                min(a.start, b.start),
                max(a.jump, b.jump),
                max(a.start + a.size, b.start + b.size) - min(a.start, b.start),
                min(a.length, b.length),
            ),
            axis,
        )
        for axis in zip(*grids, strict=True)
    )


def _step(axes, layer):
    """The grid after `layer`, from the grid before it."""
    if axes is None or isinstance(layer, _WHOLE):
        return None
    if isinstance(layer, _L.ZeroPadding2D):
        return tuple(
            Axis(a.start - lo * a.jump, a.jump, a.size, a.length + lo + hi)
            for a, (lo, hi) in zip(axes, layer.padding, strict=True)
        )
    if isinstance(layer, _L.Cropping2D):
        return tuple(
            Axis(a.start + lo * a.jump, a.jump, a.size, a.length - lo - hi)
            for a, (lo, hi) in zip(axes, layer.cropping, strict=True)
        )
    if isinstance(layer, _POOLS):
        kernel, strides, dilation = layer.pool_size, layer.strides, (1, 1)
    elif hasattr(layer, "kernel_size") and hasattr(layer, "strides") and len(layer.strides) == 2:
        kernel, strides, dilation = layer.kernel_size, layer.strides, layer.dilation_rate
    else:
        return axes  # keeps positions
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise ValueError(f"Layer {layer.name!r}: only channels_last images are supported.")
    return tuple(
        _window(a, k, s, d, layer.padding)
        for a, k, s, d in zip(axes, kernel, strides, dilation, strict=True)
    )


def _window(axis: Axis, kernel: int, stride: int, dilation: int, padding: str) -> Axis:
    span = dilation * (kernel - 1) + 1
    if padding == "same":
        length = -(-axis.length // stride)
        lead = max((length - 1) * stride + span - axis.length, 0) // 2
    else:
        length, lead = (axis.length - span) // stride + 1, 0
    return Axis(
        axis.start - lead * axis.jump,
        axis.jump * stride,
        axis.size + (span - 1) * axis.jump,
        length,
    )
