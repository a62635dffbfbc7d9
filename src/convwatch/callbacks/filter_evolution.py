"""FilterEvolution: snapshots of conv kernels over training, played back as GIFs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from convwatch.base import atomic
from convwatch.base.layout import file_stem
from convwatch.base.ranges import PositiveInt, validate_ranges
from convwatch.callbacks.capture import Capture, Every, MaxFrames
from convwatch.callbacks.model_copy import ModelCopy, snapshot
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots import animation_frames, feature_map_mural, filter_mural
from convwatch.techniques import first_conv_layer, layer_outputs
from convwatch.techniques.layers import get_layer


class FilterEvolution(Capture):
    """Watches conv filters (and, given a probe image, their feature maps) evolve.

    Kernels are small, so every snapshot is kept in memory (at most `max_frames`; past that,
    every other one is dropped) and at train end each layer gets:
    `<layer>_kernels.npz` (`kernels` `(T, kh, kw, in, out)` and `tags`), `<layer>_filters.gif`
    and `<layer>_filters.png` (the last state). The filter mural uses one colour scale for the
    whole run (gray is 0), so weights growing or shrinking show. With a `probe` image there is
    also `<layer>_feature_maps.gif`: its feature maps at each snapshot.

    The training thread copies the kernels at each snapshot (with a probe, all the weights:
    its maps come from a private copy of the model, `model_copy.py`, or, under a capture
    budget on a model of over 64 MB of weights, are read on the training thread); keeping
    them, drawing the frames and writing the files are background work, done when `fit`
    returns.

    Args:
        layers: Conv2D layer names. Defaults to the first Conv2D layer.
        every_n_steps: snapshot every this many batches; 0 or None disables.
        every_n_epochs: snapshot every this many epochs; 0 or None disables. Defaults to 1.
        out_dir: folder to write to; created when first needed.
        probe: optional input batch; its first image's feature maps are animated too.
        max_frames: most snapshots kept per layer. Defaults to 200.
        frame_ms: GIF frame duration in milliseconds. Defaults to 300.

    Example:
        >>> cb = FilterEvolution(out_dir="run/filters")  # doctest: +SKIP
        >>> model.fit(x, y, epochs=5, callbacks=[cb])  # doctest: +SKIP
    """

    group = "The first conv layer's kernels (and one probe image's feature maps) at every snapshot."
    captions = (
        (
            r"(?P<layer>.+)_filters\.gif",
            "{layer}: every kernel at each snapshot, animated; one gray scale for the whole "
            "run (mid-gray is 0).",
        ),
        (r"(?P<layer>.+)_filters\.png", "{layer}: the kernels at the last snapshot."),
        (
            r"(?P<layer>.+)_feature_maps\.gif",
            "{layer}: one probe image's feature maps at each snapshot, animated.",
        ),
        (r"(?P<layer>.+)_kernels\.npz", "{layer}: the kernels at every snapshot, and the tags."),
    )
    supplied = frozenset({"out_dir", "probe"})

    @classmethod
    def from_run(cls, inputs: RunInputs, **options: Any) -> Capture:
        return cls(out_dir=inputs.out_dir, probe=inputs.x_test[:1], **options)

    @validate_ranges
    def __init__(
        self,
        layers: Sequence[str] | None = None,
        every_n_steps: Every = None,
        every_n_epochs: Every = 1,
        out_dir: str | os.PathLike[str] = "filter_evolution",
        probe: Any = None,
        max_frames: MaxFrames = 200,
        frame_ms: PositiveInt = 300,
    ):
        super().__init__(out_dir, every_n_epochs, every_n_steps)
        self.layers = list(layers) if layers is not None else None
        self.probe = None if probe is None else np.asarray(probe)[:1]
        self.needs_built_model = self.probe is None  # a probe builds the model when called
        self.max_frames = max_frames
        self.frame_ms = frame_ms
        self.reset()

    def reset(self) -> None:
        # Background tasks keep the snapshots; reset runs at train begin, once the last fit's
        # tasks are done or cancelled.
        self._tags: list[str] = []
        self._kernels: dict[str, list[np.ndarray]] = {}
        self._maps: dict[str, list[Any]] = {}  # per layer, its feature-map GIF frames
        self._copy: ModelCopy | None = None
        self._copied = False

    def _layer_names(self) -> list[str]:
        return self.layers if self.layers is not None else [first_conv_layer(self.model)]

    def capture(self, tag: str, epoch: int, step: int) -> None:
        names = self._layer_names()
        for name in names:
            layer = get_layer(self.model, name)
            if not hasattr(layer, "kernel") or len(layer.kernel.shape) != 4:
                raise ValueError(f"FilterEvolution needs Conv2D layers; {name!r} is not one")
        if self.probe is not None and not self._copied and self.model.built:
            self._copy, self._copied = self.model_copy(), True  # once per fit
        if self.probe is not None and self._copy is not None:
            self.later(self._read_copy, tag, names, snapshot(self.model))
        else:  # no probe (kernels are quick to copy), or no copy: read the model here
            self.later(self._keep, tag, *_read(self.model, names, self.probe))

    def finish(self) -> None:
        self.later(self._assemble)

    # ---------------------------------------------------------------- background tasks
    def _read_copy(self, tag: str, names: list[str], weights: list[np.ndarray]) -> None:
        with self._copy.loaded(weights) as model:
            kernels, maps = _read(model, names, self.probe)
        self._keep(tag, kernels, maps)

    def _keep(self, tag: str, kernels: dict[str, np.ndarray], maps: dict[str, np.ndarray]):
        """Keep a snapshot (its feature maps drawn as a GIF frame now), thinned to max_frames."""
        self._tags.append(tag)
        for name, kernel in kernels.items():
            self._kernels.setdefault(name, []).append(kernel)
        for name, value in maps.items():
            (frame,) = animation_frames(
                [feature_map_mural(value)], [f"{name} maps  {tag}"], cmap="viridis"
            )
            self._maps.setdefault(name, []).append(atomic.gif_frame(frame))
        if len(self._tags) > self.max_frames:  # thin out, keeping the first and the newest
            keep = list(range(0, len(self._tags) - 1, 2)) + [len(self._tags) - 1]
            self._tags = [self._tags[i] for i in keep]
            for store in (self._kernels, self._maps):
                for name in store:
                    store[name] = [store[name][i] for i in keep]

    def _assemble(self) -> None:
        for name, kernels in self._kernels.items():
            stem = file_stem(name)
            stack = np.stack(kernels)
            atomic.write_npz(
                self.path(f"{stem}_kernels.npz"), {"kernels": stack, "tags": np.array(self._tags)}
            )
            scale = float(np.abs(stack).max()) or 1.0
            grids = [filter_mural(k / (2 * scale) + 0.5, normalize="none") for k in stack]
            frames = animation_frames(grids, [f"{name}  {t}" for t in self._tags], cmap="gray")
            atomic.write_gif(self.path(f"{stem}_filters.gif"), frames, self.frame_ms)
            atomic.write_png(self.path(f"{stem}_filters.png"), frames[-1])
            if self._maps.get(name):
                path = self.path(f"{stem}_feature_maps.gif")
                atomic.write_gif(path, self._maps[name], self.frame_ms)


def _read(model, names: list[str], probe) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Copies of the layers' kernels and, given a probe, its first image's maps in each."""
    maps = layer_outputs(model, probe, names) if probe is not None else {}
    kernels = {
        name: np.array(keras.ops.convert_to_numpy(get_layer(model, name).kernel), copy=True)
        for name in names
    }
    return kernels, {name: value[0] for name, value in maps.items()}
