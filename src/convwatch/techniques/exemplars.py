"""The data a filter responds to most: its top-k image patches over a probe set, and dead filters.

Olah et al. ("Feature Visualization", Distill 2017) show dataset examples beside every optimised
picture: the picture says what a unit could respond to, the examples what it does respond to
in the data. Here, for each filter, the k probe images on which the filter's activation (the
layer's output, after its activation) is largest anywhere in the map, each with the position of
that maximum and the patch of the image the unit there sees (its receptive field).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from convwatch.techniques.extractor import feature_extractor
from convwatch.techniques.layers import filter_indices, resolve
from convwatch.techniques.receptive_field import layer_grid

# model -> {layer path: compiled batch reduction}; entries go with the model.
_REDUCERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
MAP_BYTES = 64 * 2**20  # the default batch keeps its activation maps within this


@dataclass(frozen=True)
class Exemplars:
    """Top activations per filter, best first. F filters, k exemplars, patches h x w x C."""

    filters: np.ndarray  # (F,) the filter indices
    patches: np.ndarray  # (F, k, h, w, C) receptive-field crops, `pad_value` off the image
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
    images = _checked_images(images, k, batch_size)
    path = resolve(model, [layer])[0]
    peak, maps, map_size = _reducer(model, path, images)
    batch_size = batch_size or int(np.clip(MAP_BYTES // (4 * np.prod(map_size)), 1, 1024))
    chosen = filter_indices(filters, map_size[-1], layer)
    best, index = _running_top_k(peak, images, chosen, min(k, len(images)), batch_size)
    grid = layer_grid(model, path, images.shape[1:])
    position = _positions(maps, images, index.T, chosen, batch_size, grid)
    return Exemplars(
        filters=chosen,
        patches=_crops(images, grid, index.T, position, pad_value),
        index=index.T.copy(),
        position=position,
        activation=best.T.copy(),
        dead=best[0] <= 0,
    )


def _checked_images(images, k: int, batch_size: int | None) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must be (N, H, W, C) with N >= 1. Received: {images.shape}")
    if k < 1 or (batch_size is not None and batch_size < 1):
        raise ValueError(f"k and batch_size must be >= 1. Received: k={k}, {batch_size=}")
    return images


def _running_top_k(peak, images, chosen, k: int, batch_size: int):
    """`(best, index)`, both `(k, F)`: each filter's k largest per-image peaks, best first, and
    the images they come from, merged batch by batch so memory stays flat."""
    best = np.full((k, chosen.size), -np.inf, np.float32)
    index = np.zeros((k, chosen.size), np.int64)
    filters_t = tf.constant(chosen, tf.int32)
    for begin in range(0, len(images), batch_size):
        values = peak(tf.constant(images[begin : begin + batch_size], tf.float32), filters_t)
        # Earlier entries first and a stable sort: ties keep the earlier image.
        values = np.concatenate([best, values.numpy()])
        ids = np.arange(begin, begin + len(values) - k)[:, None] + np.zeros_like(index[:1])
        ids = np.concatenate([index, ids])
        order = np.argsort(-values, axis=0, kind="stable")[:k]
        best, index = np.take_along_axis(values, order, 0), np.take_along_axis(ids, order, 0)
    return best, index


def _reducer(model, path: str, images: np.ndarray):
    """Compiled `peak(batch, filters) -> (B, F)` maxima over positions, `maps(batch, filters)
    -> (B, positions, F)`, and the shape of one image's output."""
    per_model = _REDUCERS.setdefault(model, {})
    if path not in per_model:
        extractor = feature_extractor(model, [path], sample=images[:1])
        signature = [
            tf.TensorSpec((None, *images.shape[1:]), tf.float32),
            tf.TensorSpec((None,), tf.int32),
        ]

        def activation(batch):
            out = keras.tree.flatten(extractor(batch, training=False))[0]
            return tf.reshape(out, [tf.shape(batch)[0], -1, out.shape[-1]])  # (B, positions, K)

        @tf.function(input_signature=signature)
        def maps(batch, filters):
            return tf.gather(activation(batch), filters, axis=-1)

        # The pass over every probe image keeps only the maxima, reduced before the filters
        # are picked (a gather or an argmax over all the maps costs more than the network);
        # the positions are found afterwards, on the winning images alone.
        @tf.function(input_signature=signature)
        def peak(batch, filters):
            return tf.gather(tf.reduce_max(activation(batch), axis=1), filters, axis=-1)

        per_model[path] = (peak, maps, tuple(extractor.outputs[0].shape[1:]))
    return per_model[path]


def _positions(maps, images, index, filters, batch_size, grid) -> np.ndarray:
    """`(F, k, 2)` (row, col) of each exemplar's maximum, from the maps of the winners only."""
    winners = np.unique(index)
    flat = np.zeros(index.shape, np.int64)
    for begin in range(0, len(winners), batch_size):
        chunk = winners[begin : begin + batch_size]
        found = maps(tf.constant(images[chunk], tf.float32), tf.constant(filters, tf.int32))
        found = found.numpy()  # (b, positions, F)
        rows = np.searchsorted(chunk, index)  # where each exemplar's image is in the chunk
        inside = (rows < len(chunk)) & (chunk[np.minimum(rows, len(chunk) - 1)] == index)
        f, j = np.nonzero(inside)
        flat[f, j] = found[rows[f, j], :, f].argmax(axis=1)
    width = grid.axes[1].length if grid.axes else 1
    return np.stack([flat // width, flat % width], axis=-1)


def _crops(images, grid, index, position, pad_value) -> np.ndarray:
    """`(F, k, h, w, C)` windows of the images at the units' positions, padded off the image."""
    top, left, height, width = grid.window(0, 0)
    jump = (grid.axes[0].jump, grid.axes[1].jump) if grid.axes else (0, 0)
    tops = top + position[..., 0] * jump[0]  # (F, k)
    lefts = left + position[..., 1] * jump[1]
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
