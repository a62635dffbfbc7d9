"""FilterMaximization: the filter atlas, what each filter responds to, as training goes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
from PIL import Image

from convwatch.base import atomic
from convwatch.base.layout import file_stem
from convwatch.base.ranges import (
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Range,
    Seed,
    validate_ranges,
)
from convwatch.callbacks.capture import Capture, Every
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots import atlas_text, filter_atlas
from convwatch.techniques import find_layers, maximize_filters, receptive_field, top_exemplars
from convwatch.techniques.layers import get_layer
from convwatch.techniques.maximize import OBJECTIVES

Rate = Annotated[float, Range(0, 1, low_open=True)]  # a fraction of the way, each step


class FilterMaximization(Capture):
    """Per layer and capture, a filter atlas: each filter's optimised input beside the probe
    patches it fires on most, with dead filters marked; and a GIF of the atlases.

    Each capture runs `convwatch.techniques.maximize_filters` (every filter of a layer in one
    compiled call; by default the centre unit of a conv layer, regularised as its receptive
    field asks) and, given probe images, `top_exemplars` (the `exemplars` probe images where
    each filter's activation is largest, one per image, and the receptive-field patch there).
    With exemplars, each picture is the faintest that excites its unit as much as the filter's
    best exemplar (`maximize_filters(..., target=...)`), so picture and patches are at the same
    strength. It writes `<layer>_<tag>.png`, the atlas (one tile per filter: index, peak
    activation on the probe set, the picture cropped to the centre unit's receptive field and
    scaled up without blur, the exemplars; a filter never above 0 on any probe image is a "dead"
    tile), and `<layer>_<tag>.npz`: `images` `(F, H, W, C)` in [0, 1] (whole pictures, exactly
    0.5 outside the receptive field), `filters`, `receptive_field` (top, left, height, width),
    and with a probe set `dead` (bool, F), `exemplars` `(F, k, h, w, C)`, `exemplar_index` and
    `exemplar_position` (row, col in the map) `(F, k[, 2])`, `exemplar_activation` `(F, k)`,
    sorted descending. At train end, `<layer>.gif` plays the atlases in order.

    Args:
        probe: `(N, H, W, C)` images, as the model takes them, to find exemplars and dead
            filters in (a few thousand training images: the runner passes 2,000). None draws
            the optimised pictures only (no exemplars, no dead filters). Defaults to None.
        layers: layer names (Conv2D or Dense). Defaults to every Conv2D layer.
        filters: filter indices to show. Defaults to all, up to `max_filters`.
        every_n_epochs: capture every this many epochs; 0 or None disables. Defaults to 1.
        out_dir: folder to write to; created when first needed.
        objective: `"neuron"` (the centre unit) or `"channel"` (the map's mean). Defaults to
            `"neuron"`; Dense units are their own objective.
        steps: gradient-ascent steps. Defaults to 30.
        learning_rate: fraction of the way to the L2 decay's target per step. Defaults to 0.1.
        contrast: without a probe set, the pictures' contrast (the decay's root-mean-square
            distance from grey per pixel). Defaults to 1.2.
        max_contrast: with one, the ascent's; each picture is then the faintest version of
            the result that excites its unit as much as its best exemplar. Defaults to 4.0.
        jitter: pixels of random shift per step. Defaults to receptive field side // 16.
        blur: sigma of the gradient blur in pixels. Defaults to receptive field side / 20.
        exemplars: probe patches per filter. Defaults to 9.
        max_filters: cap on filters per layer when `filters` is None. Defaults to 64.
        seed: seed of the starting noise, the same at every capture. Defaults to 0.
        frame_ms: GIF frame duration in milliseconds. Defaults to 400.
        image_shape: input shape `(H, W, C)` for a model that declares none. Defaults to the
            model's input shape.
        batch_size: probe images per compiled call. Defaults to as many as keep their
            activation maps within 64 MB (at most 1024).

    Example:
        >>> cb = FilterMaximization(x_train[:2000], out_dir="run/atlas")  # doctest: +SKIP
        >>> model.fit(x, y, epochs=5, callbacks=[cb])  # doctest: +SKIP
    """

    group = (
        "The filter atlas: for each filter of a conv layer, the input that excites it, found by "
        "gradient ascent, beside the training images it fires on most."
    )
    captions = (
        (r"(?P<layer>[^/]+)\.gif", "{layer}: the filter atlas capture by capture, animated."),
        (
            r"(?P<layer>.+)_{tag}\.png",
            "{layer}, {tag}: one tile per filter, labelled with its index and its peak "
            "activation on the probe images. Left (orange outline): the faintest input that "
            "excites the filter's centre unit as much as its best exemplar, cropped to the "
            "unit's receptive field (mid-grey is 0.5, no change). Right: its exemplars, the "
            "probe-image patches (one per image, that unit's receptive field) where the filter "
            "fires most, best first. A 'dead' tile: a filter whose activation is 0 or less at "
            "every position of every probe image.",
        ),
        (
            r"(?P<layer>.+)_{tag}\.npz",
            "{layer}, {tag}: the optimised inputs, the receptive field, dead filters, the "
            "exemplar patches, their image indices, positions and activations.",
        ),
    )
    run_options = {"probe_size": PositiveInt}
    supplied = frozenset({"out_dir", "probe"})

    @classmethod
    def from_run(cls, inputs: RunInputs, probe_size: int = 2000, **options: Any) -> Capture:
        # The probe set exemplars and dead filters are found in: the first `probe_size` training
        # images (2,000: every filter's top 9 from a few hundred images per class).
        return cls(inputs.x_train[:probe_size], out_dir=inputs.out_dir, **options)

    @validate_ranges
    def __init__(
        self,
        probe=None,
        layers: Sequence[str] | None = None,
        filters: Sequence[NonNegativeInt] | None = None,
        every_n_epochs: Every = 1,
        out_dir: str | os.PathLike[str] = "filter_maximization",
        objective: str | None = None,
        steps: PositiveInt = 30,
        learning_rate: Rate = 0.1,
        contrast: PositiveFloat = 1.2,
        max_contrast: PositiveFloat = 4.0,
        jitter: NonNegativeInt | None = None,
        blur: NonNegativeFloat | None = None,
        exemplars: PositiveInt = 9,
        max_filters: PositiveInt = 64,
        seed: Seed = 0,
        frame_ms: PositiveInt = 400,
        image_shape: tuple[PositiveInt, ...] | None = None,
        batch_size: PositiveInt | None = None,
    ):
        super().__init__(out_dir, every_n_epochs, None)
        if objective not in (None, *OBJECTIVES):
            raise ValueError(f"objective must be one of {OBJECTIVES}. Received: {objective!r}")
        if probe is not None and np.ndim(probe) != 4:
            raise ValueError(f"probe must be (N, H, W, C). Received: {np.shape(probe)}")
        self.probe = probe
        self.layers = list(layers) if layers is not None else None
        self.filters = list(filters) if filters is not None else None
        self.objective = objective
        self.ascent = dict(steps=steps, learning_rate=learning_rate, contrast=contrast)
        self.ascent.update(max_contrast=max_contrast)
        self.ascent.update(jitter=jitter, blur=blur, seed=seed, image_shape=image_shape)
        self.exemplars = exemplars
        self.max_filters = max_filters
        self.frame_ms = frame_ms
        self.batch_size = batch_size
        self._frames: dict[str, list[str]] = {}  # PNG paths: frames stay on disk, not in memory

    def reset(self) -> None:
        self._frames = {}

    def _layer_names(self) -> list[str]:
        return self.layers if self.layers is not None else find_layers(self.model, ("conv",))

    def _filters(self, name: str) -> list[int]:
        if self.filters is not None:
            return self.filters
        layer = get_layer(self.model, name)
        count = getattr(layer, "filters", None) or getattr(layer, "units", None)
        return list(range(min(int(count), self.max_filters)))

    def capture(self, tag: str, epoch: int, step: int) -> None:
        for name in self._layer_names():
            filters = self._filters(name)
            arrays, ex, target = {"filters": np.array(filters)}, None, None
            if self.probe is not None:
                ex = top_exemplars(
                    self.model, name, self.probe, self.exemplars, filters, self.batch_size
                )
                arrays.update(dead=ex.dead, exemplars=ex.patches, exemplar_index=ex.index)
                arrays.update(exemplar_position=ex.position, exemplar_activation=ex.activation)
                # The faintest picture that excites each unit as much as its best exemplar.
                target = None if self.objective == "channel" else ex.activation[:, 0]
            pictures = maximize_filters(
                self.model, name, filters, self.objective, target=target, **self.ascent
            )
            top, left, height, width = receptive_field(self.model, name, pictures.shape[1:])
            arrays.update(images=pictures, receptive_field=np.array([top, left, height, width]))
            shown = pictures
            if self.objective in (None, "neuron"):  # the rest of the picture is grey
                shown = pictures[:, max(top, 0) : top + height, max(left, 0) : left + width]
            stem = file_stem(name)
            atomic.write_npz(self.path(f"{stem}_{tag}.npz"), arrays)
            title, subtitle = atlas_text(
                name,
                tag,
                len(filters),
                shown.shape[1:3],
                cropped=shown.shape[1:3] != pictures.shape[1:3],
                targeted=target is not None,
                exemplars=None if ex is None else ex.patches.shape[1],
                dead=None if ex is None else ex.dead,
                probes=0 if self.probe is None else len(self.probe),
            )
            atlas = filter_atlas(
                shown,
                filters,
                None if ex is None else ex.patches,
                None if ex is None else ex.activation,
                None if ex is None else ex.dead,
                title=title,
                subtitle=subtitle,
            )
            png = atomic.write_png(self.path(f"{stem}_{tag}.png"), atlas)
            self._frames.setdefault(name, []).append(str(png))

    def finish(self) -> None:
        for name, paths in self._frames.items():
            frames = [np.asarray(Image.open(p)) for p in paths]
            atomic.write_gif(self.path(f"{file_stem(name)}.gif"), frames, self.frame_ms)
