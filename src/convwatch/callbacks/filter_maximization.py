"""FilterMaximization: the filter atlas, what each filter responds to, as training goes."""

from __future__ import annotations

import io
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
from convwatch.callbacks.atlas_plan import AtlasPlan, Sized
from convwatch.callbacks.budget import UNSET
from convwatch.callbacks.capture import BUDGET_CAPTION, Capture, Every
from convwatch.callbacks.model_copy import ModelCopy, snapshot
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots import atlas_text, filter_atlas
from convwatch.plots.filter_atlas import drawn_tiles
from convwatch.plots.scaling import display_range
from convwatch.techniques import maximize_filters, receptive_field
from convwatch.techniques.exemplars import layer_exemplars
from convwatch.techniques.layers import resolve
from convwatch.techniques.maximize import OBJECTIVES, decorrelated
from convwatch.techniques.memory import depth_shares, footprint, forward_cost
from convwatch.techniques.stages import default_layers
from convwatch.techniques.traced import output_shapes

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
    strength; a deep unit's (a field over 40 px, optimised as a Fourier spectrum: `decorrelated`
    in the NPZ) is the ascent at full strength instead, since its faint versions are grey
    (`targeted` says which). `filter_count` is the layer's number of filters, of which the atlas
    shows the most active. It writes `<layer>_<tag>.png`, the atlas (one tile per filter: index,
    peak activation on the probe set, the picture cropped to the centre unit's receptive field
    and scaled up without blur, the exemplars; a filter never above 0 on any probe image is a
    "dead" tile), and `<layer>_<tag>.npz`: `images` `(F, H, W, C)` in [0, 1] (whole pictures,
    exactly 0.5 outside the receptive field), `filters`, `receptive_field` (top, left, height,
    width), and with a probe set `dead` (bool, F), `exemplars` `(F, k, h, w, C)`,
    `exemplar_index` and `exemplar_position` (row, col in the map) `(F, k[, 2])`,
    `exemplar_activation` `(F, k)`, sorted descending. Where the atlas shrinks the pictures or
    patches to fit its tiles (a deep unit, whose field can be the whole image), `images` and
    `exemplars` are instead the uint8 RGB tiles as drawn, and `as_shown` is True: a few MB a
    layer, not tens. At train end, `<layer>.gif` plays the atlases in order.

    The training thread only copies the weights at each capture: the ascent and the exemplar
    search run in the background on a private copy of the model (`model_copy.py`: cloned once,
    pooled by architecture, so its compiled functions are traced once per process), with the
    drawing and the files; every file is complete when `fit` returns. Under a capture budget
    a model of over 64 MB of weights (a ResNet50), and any model that cannot be cloned, has
    its ascent and exemplars computed on the training thread, and only the drawing done in
    the background. Either way the arrays are the same for the same weights.

    Args:
        probe: `(N, H, W, C)` images, as the model takes them, to find exemplars and dead
            filters in (a few thousand training images: the runner passes 2,000). None draws
            the optimised pictures only (no exemplars, no dead filters). Its range sets the
            pictures': a probe of 0-255 pixels (most keras.applications networks) has the
            network see the pictures stretched from [0, 1] to 0-255 (the NPZ keeps [0, 1]).
            Defaults to None.
        layers: layer names (any layer with a map output, or Dense). Defaults to every
            convolution of a small net (at most one per resolution), one layer per stage of a
            deep one (`convwatch.techniques.stages`).
        filters: filter indices to show. Defaults to the `max_filters` with the highest peak
            activation on the probe set (all, where there are fewer); without a probe set,
            the first `max_filters`.
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
        max_filters: most filters per layer when `filters` is None. Defaults to 64.
        seed: seed of the starting noise, the same at every capture. Defaults to 0.
        frame_ms: GIF frame duration in milliseconds. Defaults to 400.
        image_shape: input shape `(H, W, C)` for a model that declares none. Defaults to the
            model's input shape.
        batch_size: probe images per compiled call. Defaults to as many as keep their
            activation maps within 64 MB (at most 1024) and the network's within 128 MB.
        budget: the share of training time this fit's captures may add (`budget.py`; it
            applies to all of them); None: every capture as scheduled, in full. Under a budget
            a capture may draw fewer layers and filters and search fewer probe images
            (`atlas_plan.py`), or skip an epoch; the last epoch is always drawn, and what was
            thinned is written to `budget.json` and logged. Defaults to the fit's (0.2).

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
        BUDGET_CAPTION,
    )
    run_options = {"probe_size": PositiveInt}
    supplied = frozenset({"out_dir", "probe"})
    budgeted = True

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
        budget: PositiveFloat | None = UNSET,
    ):
        super().__init__(out_dir, every_n_epochs, None, budget=budget)
        if objective not in (None, *OBJECTIVES):
            raise ValueError(f"objective must be one of {OBJECTIVES}. Received: {objective!r}")
        if probe is not None and np.ndim(probe) != 4:
            raise ValueError(f"probe must be (N, H, W, C). Received: {np.shape(probe)}")
        self.probe = None if probe is None else np.asarray(probe)
        self._probe_range = display_range(self.probe)
        self.layers = list(layers) if layers is not None else None
        self.filters = list(filters) if filters is not None else None
        self.objective = objective
        self.ascent = dict(steps=steps, learning_rate=learning_rate, contrast=contrast)
        self.ascent.update(max_contrast=max_contrast)
        self.ascent.update(jitter=jitter, blur=blur, seed=seed, image_shape=image_shape)
        self.ascent.update(value_range=self._probe_range)
        self.exemplars = exemplars
        self.max_filters = max_filters
        self.frame_ms = frame_ms
        self.batch_size = batch_size
        self.reset()

    def reset(self) -> None:
        # Background tasks append to _frames; reset runs at train begin, once the last fit's
        # tasks are done or cancelled.
        self._frames: dict[str, list[bytes]] = {}  # per layer, its GIF frames so far (packed)
        self._copy: ModelCopy | None = None
        self._copied = False
        self._plan: AtlasPlan | None = None

    def capture(self, tag: str, epoch: int, step: int) -> None:
        if not self._copied:  # once per fit: cloning needs the live model
            self._copy, self._copied = self.model_copy(), True
            if self.layers is not None:
                resolve(self.model, self.layers)  # a wrong name fails the fit now, not at its end
        if self._copy is not None:
            self.later(self._measure_copy, tag, epoch, self._final, snapshot(self.model))
        else:  # a model that cannot be copied: its model work here, the drawing later
            self._plan = self._plan or self._make_plan(self.model)
            work = self._work(tag, self.model)
            self.sized(tag, epoch, self._final, self._plan.predict, work, wait=False)

    def finish(self) -> None:
        self.later(self._write_gifs)

    def _make_plan(self, model) -> AtlasPlan:
        """The layers and full-scale sizes, once per fit: on the private copy in the
        background, or on the model itself where there is none."""
        shape = self._image_shape()
        names = self.layers or default_layers(model, ("conv",), shape)
        channels = output_shapes(model, shape)
        count = {name: int(channels[name][-1]) for name in names}
        example = np.zeros((1, *(shape or model.inputs[0].shape[1:])), np.float32)
        batch = footprint(model, example.shape[1:]).forward_batch()
        return AtlasPlan(
            layers=list(names),
            channels=count,
            shares=depth_shares(model, names, shape),
            filters={
                n: len(self.filters or range(min(c, self.max_filters))) for n, c in count.items()
            },
            probes=0 if self.probe is None else len(self.probe),
            exemplars=self.exemplars,
            steps=self.ascent["steps"],
            cost=forward_cost(model, example, batch),
            batch=batch,
        )

    def _plan_for(self, model) -> None:
        self._plan = self._make_plan(model)

    # ---------------------------------------------------------------- background tasks
    def _measure_copy(self, tag: str, epoch: int, final: bool, weights: list[np.ndarray]):
        if self._plan is None:
            with self._copy.held() as model:
                self.set_up(self._plan_for, model)
        self.sized(tag, epoch, final, self._plan.predict, self._work(tag, weights=weights))

    def _work(self, tag: str, model=None, weights: list[np.ndarray] | None = None):
        """The capture at a scale: `model` measured here and drawn later, or, in the
        background, the private copy holding `weights` (held only while measured) and the
        drawing right after."""

        def work(scale: float) -> str:
            sized = self._plan.at(scale)
            if model is not None:
                self.draw_later(self._draw, tag, self._measure(model, sized))
            else:
                with self._copy.loaded(weights) as copy:
                    found = self._measure(copy, sized)
                self._draw(tag, found)
            return self._plan.describe(sized)

        return work

    def _measure(self, model, sized: Sized) -> dict[str, dict[str, np.ndarray]]:
        """Per layer, the atlas arrays (the NPZ's): exemplars of every layer from one pass over
        the probe images (which also picks the most active filters), then each layer's
        pictures."""
        shape = self._image_shape()
        chosen = {name: self._filters(model, name, shape, sized) for name in sized.layers}
        found = {}
        if self.probe is not None:
            found = layer_exemplars(
                model,
                chosen,
                self.probe[: sized.probes],
                self.exemplars,
                self.batch_size,
                pad_value=sum(self._probe_range) / 2,  # grey, in the probe's own range
                limit=sized.filters,
            )
        atlases = {}
        for name in sized.layers:
            arrays, target = {}, None
            deep = decorrelated(model, name, self._image_shape())
            if name in found:
                ex = found[name]
                arrays.update(dead=ex.dead, exemplars=ex.patches, exemplar_index=ex.index)
                arrays.update(exemplar_position=ex.position, exemplar_activation=ex.activation)
                # The faintest picture that excites each unit as much as its best exemplar; on a
                # deep unit, the picture at full strength (a faint Fourier picture is grey).
                if self.objective != "channel" and not deep:
                    target = ex.activation[:, 0]
                filters = list(ex.filters)
            else:
                filters = chosen[name]
            arrays["filters"] = np.array(filters)
            pictures = maximize_filters(
                model, name, filters, self.objective, target=target, **self.ascent
            )
            top, left, height, width = receptive_field(model, name, pictures.shape[1:])
            arrays.update(images=pictures, receptive_field=np.array([top, left, height, width]))
            arrays["targeted"] = np.array(target is not None)
            arrays["decorrelated"] = np.array(deep)
            arrays["filter_count"] = np.array(self._plan.channels[name])
            atlases[name] = arrays
        return atlases

    def _image_shape(self) -> tuple[int, ...] | None:
        if self.ascent["image_shape"] is not None:
            return tuple(self.ascent["image_shape"])
        return None if self.probe is None else self.probe.shape[1:]

    def _filters(self, model, name: str, shape, sized: Sized) -> list[int] | None:
        """The filters asked for (the first ones the scale allows); None (all: the exemplar
        search picks the most active) given a probe set; else the first ones."""
        if self.filters is not None:
            return self.filters[: sized.filters[name]]
        if self.probe is not None:
            return None
        return list(range(sized.filters[name]))

    def _draw(self, tag: str, atlases: dict[str, dict[str, np.ndarray]]) -> None:
        """Write each layer's NPZ and atlas PNG, and keep the atlas as a GIF frame."""
        for name, arrays in atlases.items():
            stem = file_stem(name)
            pictures, patches = self._shown(arrays)
            cropped = pictures.shape[1:3] != arrays["images"].shape[1:3]
            drawn = drawn_tiles(pictures, patches)
            if drawn is not None:  # a deep layer: the NPZ keeps the tiles as the atlas shows them
                arrays = {**arrays, "images": drawn[0], "as_shown": np.array(True)}
                if drawn[1] is not None:
                    arrays["exemplars"] = drawn[1]
            atomic.write_npz(self.path(f"{stem}_{tag}.npz"), arrays)
            atlas = self._atlas(name, tag, arrays, pictures, patches, cropped)
            atomic.write_png(self.path(f"{stem}_{tag}.png"), atlas)
            # Quantised now, beside the rest of this capture's work, not all at the end; kept
            # as a palette PNG in memory (about 50 KB an atlas).
            packed = io.BytesIO()
            atomic.gif_frame(atlas).save(packed, format="PNG", compress_level=1)
            self._frames.setdefault(name, []).append(packed.getvalue())

    def _shown(self, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        """The pictures as the atlas shows them (cropped to the receptive field for a neuron
        objective) and the patches in [0, 1], whatever range the model takes."""
        pictures = arrays["images"]
        top, left, height, width = (int(v) for v in arrays["receptive_field"])
        if self.objective in (None, "neuron"):  # the rest of the picture is grey
            pictures = pictures[:, max(top, 0) : top + height, max(left, 0) : left + width]
        patches = arrays.get("exemplars")
        if patches is not None:
            low, high = self._probe_range
            patches = (patches.astype(np.float32) - low) / (high - low)
        return pictures, patches

    def _atlas(self, name: str, tag: str, arrays, shown, patches, cropped) -> np.ndarray:
        dead = arrays.get("dead")
        title, subtitle = atlas_text(
            name,
            tag,
            len(arrays["filters"]),
            shown.shape[1:3],
            cropped=cropped,
            targeted=bool(arrays.get("targeted", patches is not None)),
            exemplars=None if patches is None else patches.shape[1],
            dead=dead,
            probes=0 if self.probe is None else len(self.probe),
            of=int(arrays["filter_count"]) if "filter_count" in arrays else None,
            deep=bool(arrays.get("decorrelated", False)),
        )
        return filter_atlas(
            shown,
            list(arrays["filters"]),
            patches,
            arrays.get("exemplar_activation"),
            dead,
            title=title,
            subtitle=subtitle,
        )

    def _write_gifs(self) -> None:
        for name, packed in self._frames.items():
            frames = atomic.padded([Image.open(io.BytesIO(data)) for data in packed])
            atomic.write_gif(self.path(f"{file_stem(name)}.gif"), frames, self.frame_ms)
