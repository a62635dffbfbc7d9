"""The data a filter responds to most: its top-k image patches over a probe set, and dead filters.

Olah et al. ("Feature Visualization", Distill 2017) show dataset examples beside every optimised
picture: the picture says what a unit could respond to, the examples what it does respond to
in the data. Here, for each filter, the k probe images on which the filter's activation (the
layer's output, after its activation) is largest anywhere in the map, each with the position of
that maximum and the patch of the image the unit there sees (its receptive field).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from convwatch.techniques import autodiff
from convwatch.techniques.extractor import feature_extractor
from convwatch.techniques.layers import filter_indices, resolve
from convwatch.techniques.memory import footprint
from convwatch.techniques.receptive_field import layer_grid

# model -> {layer paths: compiled batch reductions}; entries go with the model.
_REDUCERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
MAP_BYTES = 64 * 2**20  # the default batch keeps its activation maps within this


@dataclass(frozen=True)
class Exemplars:
    """Top activations per filter, best first. F filters, k exemplars, patches h x w x C."""

    filters: np.ndarray  # (F,) the filter indices
    patches: np.ndarray  # (F, k, h, w, C) receptive-field crops, `pad_value` off the image
    # (an axis where the field is larger than the image: the whole image along it)
    index: np.ndarray  # (F, k) int64 probe-image indices
    position: np.ndarray  # (F, k, 2) int64 (row, col) of the unit in the map; (0, 0) for Dense
    activation: np.ndarray  # (F, k) float32, sorted descending
    dead: np.ndarray  # (F,) bool: activation <= 0 at every position of every probe image


def top_exemplars(
    model,
    layer: str,
    images,
    k: int = 9,
    filters: Sequence[int] | None = None,
    batch_size: int | None = None,
    pad_value: float = 0.5,
) -> Exemplars:
    """For each filter of `layer`, the k probe images where it fires hardest, and their patches.

    At most one exemplar per image: an image's score for a filter is the filter's largest
    activation over all positions of its map (so nine exemplars are nine different images, not
    nine neighbouring positions of one stroke). Ties keep the earlier image. The images go
    through a compiled extractor `batch_size` at a time; each batch's per-image maxima are
    merged into a running top-k, so memory stays flat however many images there are. A Dense
    layer's unit has no position: its exemplars are whole images.

    Args:
        model: a Keras 3 model (Sequential, functional, nested).
        layer: a Conv2D (or Dense) layer name or path.
        images: `(N, H, W, C)` probe images, as the model takes them.
        k: exemplars per filter, at most N. Defaults to 9.
        filters: filter indices. Defaults to all of them.
        batch_size: images per compiled call. Defaults to as many as keep a batch's
            activation maps within 64 MB, at most 1024.
        pad_value: value of patch pixels that fall off the image ("same" padding). Defaults
            to 0.5, grey for images in [0, 1].

    Returns:
        `Exemplars` (see its fields); `dead[f]` is True when filter f never activates above 0.
    """
    return layer_exemplars(model, {layer: filters}, images, k, batch_size, pad_value)[layer]


def layer_exemplars(
    model,
    layers: Mapping[str, Sequence[int] | None],
    images,
    k: int = 9,
    batch_size: int | None = None,
    pad_value: float = 0.5,
    limit: int | Mapping[str, int] | None = None,
) -> dict[str, Exemplars]:
    """`top_exemplars` of several layers at once: `{layer: filters (None: all)}` in,
    `{layer: Exemplars}` out, from one pass of the images through the network (the layers
    share what lies below them) and one more of the winning images for the positions. The
    default `batch_size` keeps all the layers' maps of a batch within 64 MB, and the whole
    network's activations within `memory.FORWARD_BYTES`. With `limit` (a number, or one per
    layer), a layer asked for all its filters keeps the `limit` with the highest peak
    activation (in index order): the pass keeps every filter's top k, a few numbers each, and
    only those chosen get patches."""
    images = _checked_images(images, k, batch_size)
    names = list(layers)
    paths = resolve(model, names)
    peak, argmax, map_sizes = _reducer(model, tuple(paths), images)
    per_image = sum(int(np.prod(size)) for size in map_sizes)
    batch_size = batch_size or min(
        int(np.clip(MAP_BYTES // (4 * per_image), 1, 1024)),
        footprint(model, images.shape[1:]).forward_batch(4 * per_image),
    )
    chosen = [
        filter_indices(layers[name], size[-1], name)
        for name, size in zip(names, map_sizes, strict=True)
    ]
    k = min(k, len(images))
    tops = _running_top_k(peak, images, chosen, k, batch_size)
    if limit is not None:
        for i, name in enumerate(names):
            most = limit if isinstance(limit, int) else limit.get(name, chosen[i].size)
            if layers[name] is None and chosen[i].size > most:
                best, index = tops[i]
                keep = np.sort(np.argsort(-best[0], kind="stable")[:most])
                chosen[i], tops[i] = chosen[i][keep], (best[:, keep], index[:, keep])
    flat = _flat_positions(argmax, images, [index.T for _, index in tops], chosen, batch_size)
    found = {}
    for name, path, filters, (best, index), spots in zip(
        names, paths, chosen, tops, flat, strict=True
    ):
        grid = layer_grid(model, path, images.shape[1:])
        width = grid.axes[1].length if grid.axes else 1
        position = np.stack([spots // width, spots % width], axis=-1)
        found[name] = Exemplars(
            filters=filters,
            patches=_crops(images, grid, index.T, position, pad_value),
            index=index.T.copy(),
            position=position,
            activation=best.T.copy(),
            dead=best[0] <= 0,
        )
    return found


def _checked_images(images, k: int, batch_size: int | None) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must be (N, H, W, C) with N >= 1. Received: {images.shape}")
    if k < 1 or (batch_size is not None and batch_size < 1):
        raise ValueError(f"k and batch_size must be >= 1. Received: k={k}, {batch_size=}")
    return images


def _running_top_k(peak, images, chosen, k: int, batch_size: int):
    """Per layer `(best, index)`, both `(k, F)`: each filter's k largest per-image peaks, best
    first, and the images they come from, merged batch by batch so memory stays flat."""
    tops = [
        (np.full((k, c.size), -np.inf, np.float32), np.zeros((k, c.size), np.int64)) for c in chosen
    ]
    for begin in range(0, len(images), batch_size):
        peaks = peak(images[begin : begin + batch_size].astype(np.float32, copy=False))
        for i, (values, filters) in enumerate(zip(peaks, chosen, strict=True)):
            best, index = tops[i]
            # Earlier entries first and a stable sort: ties keep the earlier image.
            values = np.concatenate([best, values[:, filters]])
            ids = np.arange(begin, begin + len(values) - k)[:, None] + np.zeros_like(index[:1])
            ids = np.concatenate([index, ids])
            order = np.argsort(-values, axis=0, kind="stable")[:k]
            tops[i] = np.take_along_axis(values, order, 0), np.take_along_axis(ids, order, 0)
    return tops


def _reducer(model, paths: tuple[str, ...], images: np.ndarray):
    """Compiled `peak(batch) -> [(B, K)]` maxima over positions and `argmax(batch) -> [(B, K)]`
    their flat positions, one per layer, and the shape of one image's output per layer."""
    per_model = _REDUCERS.setdefault(model, {})
    if paths not in per_model:
        extractor = feature_extractor(model, list(paths), sample=images[:1])

        def activations(batch):  # [(B, positions, K)]
            outputs = keras.tree.flatten(extractor(batch, training=False))
            return [ops.reshape(out, (ops.shape(batch)[0], -1, out.shape[-1])) for out in outputs]

        # The pass over every probe image keeps only the maxima (an argmax over all the maps
        # costs more than the network); the positions are found afterwards, on the winning
        # images alone.
        def peak(batch):
            return [ops.max(out, axis=1) for out in activations(batch)]

        def argmax(batch):
            return [ops.cast(ops.argmax(out, axis=1), "int32") for out in activations(batch)]

        peak, argmax = (autodiff.compile_function(f, [extractor]) for f in (peak, argmax))
        sizes = [tuple(out.shape[1:]) for out in extractor.outputs]
        per_model[paths] = (peak, argmax, sizes)
    return per_model[paths]


def _flat_positions(argmax, images, indices, chosen, batch_size) -> list[np.ndarray]:
    """Per layer `(F, k)` flat map position of each exemplar's maximum, from the winners only."""
    winners = np.unique(np.concatenate([index.ravel() for index in indices]))
    flat = [np.zeros(index.shape, np.int64) for index in indices]
    for begin in range(0, len(winners), batch_size):
        chunk = winners[begin : begin + batch_size]
        found = argmax(images[chunk].astype(np.float32, copy=False))  # per layer (b, K)
        for spots, where, index, filters in zip(flat, found, indices, chosen, strict=True):
            rows = np.searchsorted(chunk, index)  # where each exemplar's image is in the chunk
            inside = (rows < len(chunk)) & (chunk[np.minimum(rows, len(chunk) - 1)] == index)
            f, j = np.nonzero(inside)
            spots[f, j] = where[rows[f, j], filters[f]]
    return flat


def _crops(images, grid, index, position, pad_value) -> np.ndarray:
    """`(F, k, h, w, C)` windows of the images at the units' positions, padded off the image."""
    top, left, height, width = grid.window(0, 0)
    jump = (grid.axes[0].jump, grid.axes[1].jump) if grid.axes else (0, 0)
    tops = top + position[..., 0] * jump[0]  # (F, k)
    lefts = left + position[..., 1] * jump[1]
    # A deep unit can see more than the whole image: its patch is then the image itself
    # along that axis, not a grey frame around it.
    if height > images.shape[1]:
        tops, height = np.zeros_like(tops), images.shape[1]
    if width > images.shape[2]:
        lefts, width = np.zeros_like(lefts), images.shape[2]
    margin_y = max(0, -tops.min(), (tops + height - images.shape[1]).max())
    margin_x = max(0, -lefts.min(), (lefts + width - images.shape[2]).max())
    picked = images[index.ravel()].astype(np.float32)
    picked = np.pad(
        picked,
        [(0, 0), (margin_y, margin_y), (margin_x, margin_x), (0, 0)],
        constant_values=pad_value,
    )
    rows = (tops.ravel() + margin_y)[:, None] + np.arange(height)  # (F*k, h)
    cols = (lefts.ravel() + margin_x)[:, None] + np.arange(width)
    n = np.arange(len(picked))[:, None, None]
    patches = picked[n, rows[:, :, None], cols[:, None, :]]  # (F*k, h, w, C)
    return patches.reshape(*index.shape, height, width, images.shape[-1])
