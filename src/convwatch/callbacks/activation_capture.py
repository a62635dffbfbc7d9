"""ActivationCapture: the feature maps of a fixed probe batch, saved as training goes."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from convwatch.base import atomic
from convwatch.base.layout import file_stem
from convwatch.base.ranges import NonNegativeInt, PositiveFloat, PositiveInt, validate_ranges
from convwatch.callbacks.budget import UNSET
from convwatch.callbacks.capture import BUDGET_CAPTION, Capture, Every
from convwatch.callbacks.model_copy import ModelCopy, snapshot
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots import channel_mural
from convwatch.techniques import layer_outputs
from convwatch.techniques.channels import most_active
from convwatch.techniques.layers import resolve
from convwatch.techniques.memory import ForwardCost, footprint, read_cost
from convwatch.techniques.stages import default_layers

MEGABYTE = 2**20
DRAW_S = 0.05  # about what one mural and its share of the NPZ take


class ActivationCapture(Capture):
    """Saves the outputs of chosen layers for a fixed probe batch on a schedule.

    Each capture writes, for every layer with spatial output, `<layer>_<tag>.png`: a mural of
    probe image `image_index`'s feature maps, each tile labelled with its channel index and at
    least 16 px on its short side; a layer of more than `max_channels` channels shows the
    `max_channels` most active on the probe batch (largest mean square), not the first ones.
    And `activations_<tag>.npz` (load with `allow_pickle=False`): per layer, keyed by its
    file-safe name, its outputs as float16 for exactly the channels its mural shows, with
    `<name>_channels` their indices, for as many probe images as keep the file within
    `max_megabytes` (at least image `image_index`; `probe_index` says which). Tags are
    `epoch000` (untrained), `epoch001`, ... or `step000100`, ...

    By default a model with one conv, pooling or Dense layer per spatial resolution (a small
    net) has all of those captured; a deeper one (a ResNet, a MobileNet) one layer per stage,
    the last at each resolution (`convwatch.techniques.stages`). The forward pass takes as many
    probe images at a time as the network's activations allow within 128 MB.

    The training thread only copies the weights; the forward pass (on a private copy of the
    model, `model_copy.py`), the murals and the files are background work, done when `fit`
    returns. Under a capture budget a model of over 64 MB of weights (a ResNet50) is read on
    the training thread at the capture's moment instead (one compiled call a batch), as is a
    model that cannot be copied or is not built yet; the murals are drawn in the background.

    Args:
        probe: a batch of model inputs, `(N, H, W, C)`, kept fixed over training.
        layers: layer names (nested layers as `outer/inner`). Defaults to every Conv2D,
            pooling and Dense layer of a small net, one layer per stage of a deep one.
        every_n_epochs: capture every this many epochs; 0 or None disables. Defaults to 1.
        every_n_steps: capture every this many batches; 0 or None disables. Defaults to None.
        out_dir: folder to write to; created when first needed.
        image_index: which probe image the murals show. Defaults to 0.
        max_channels: most feature maps shown (and saved) per layer. Defaults to 64.
        max_megabytes: about the most one capture's NPZ holds. Defaults to 10.
        budget: the share of training time this fit's captures may add (`budget.py`; it
            applies to all of them); None: every capture as scheduled, with every probe
            image. Under a budget a capture may read fewer probe images (always
            `image_index`), or skip an epoch; the last epoch is always captured. Defaults to
            the fit's (0.2).

    Example:
        >>> cb = ActivationCapture(x_test[:8], out_dir="run/activations")  # doctest: +SKIP
        >>> model.fit(x, y, epochs=3, callbacks=[cb])  # doctest: +SKIP
    """

    group = "Feature maps of a fixed probe batch, captured as training goes."
    captions = (
        (r"activations_{tag}\.npz", "Every captured layer's output for the probe batch, {tag}."),
        (r"(?P<layer>.+)_{tag}\.png", "{layer}: one probe image's feature maps, {tag}."),
        BUDGET_CAPTION,
    )
    run_options = {"probe_size": PositiveInt}  # the probe: the first this many test images
    supplied = frozenset({"out_dir", "probe"})

    @classmethod
    def from_run(cls, inputs: RunInputs, probe_size: int = 8, **options: Any) -> Capture:
        return cls(inputs.x_test[:probe_size], out_dir=inputs.out_dir, **options)

    @validate_ranges
    def __init__(
        self,
        probe: Any,
        layers: Sequence[str] | None = None,
        every_n_epochs: Every = 1,
        every_n_steps: Every = None,
        out_dir: str | os.PathLike[str] = "activations",
        image_index: NonNegativeInt = 0,
        max_channels: PositiveInt = 64,
        max_megabytes: PositiveInt = 10,
        budget: PositiveFloat | None = UNSET,
    ):
        super().__init__(out_dir, every_n_epochs, every_n_steps, budget=budget)
        self.probe = np.asarray(probe)
        if self.probe.ndim < 2 or len(self.probe) == 0:
            raise ValueError(f"probe must be a non-empty batch. Received shape {self.probe.shape}")
        if image_index >= len(self.probe):
            raise ValueError(
                f"`image_index` must be in [0, {len(self.probe)}), the probe's length. "
                f"Received: image_index={image_index}"
            )
        self.layers = list(layers) if layers is not None else None
        self.image_index = image_index
        self.max_channels = max_channels
        self.max_megabytes = max_megabytes
        self.reset()

    needs_built_model = False  # calling the model on the probe builds it
    budgeted = True

    def reset(self) -> None:
        self.captured = []
        self._copy: ModelCopy | None = None
        self._copied = False
        self._chosen: list[str] | None = None  # the layers, chosen at the first capture
        self._batch = 1
        self._cost = ForwardCost(0.0, 0.0)  # what a forward pass costs, timed at the first capture

    def capture(self, tag: str, epoch: int, step: int) -> None:
        if not self._copied and self.model.built:  # once per fit: cloning needs the live model
            self._copy, self._copied = self.model_copy(), True
            if self.layers is not None:
                resolve(self.model, self.layers)  # a wrong name fails the fit now, not at its end
        if self._copy is not None:
            self.later(self._read_copy, tag, epoch, self._final, snapshot(self.model))
        else:  # unbuilt (the probe builds it) or not copyable: the forward pass here
            self._choose(self.model)
            self.sized(tag, epoch, self._final, self._units, self._work(tag, self.model), False)
        self.captured.append(tag)

    def _choose(self, model) -> None:
        """The layers and the forward batch, once per fit (the model is built by now): on the
        private copy in the background, or on the model itself where there is none."""
        if self._chosen is not None:
            return
        if not model.built:
            layer_outputs(model, self.probe[:1], self.layers)  # builds a model never called
        shape = self.probe.shape[1:]
        chosen = self.layers or default_layers(model, ("conv", "pool", "dense"), shape)
        self._chosen = list(chosen)
        self._batch = min(footprint(model, shape).forward_batch(), len(self.probe))
        self._cost = read_cost(model, self.probe, self._chosen, self._batch)

    def _images(self, scale: float) -> np.ndarray:
        """The probe images a capture at `scale` reads: the first ones, and `image_index`."""
        count = max(1, math.ceil(scale * len(self.probe)))
        keep = np.arange(count)
        if self.image_index >= count:
            keep[-1] = self.image_index
        return keep

    def _units(self, scale: float) -> float:
        """Predicted seconds at `scale`: the forward passes, and drawing each layer's mural."""
        images = len(self._images(scale))
        return self._cost.seconds(images, self._batch) + DRAW_S * len(self._chosen)

    def _work(self, tag: str, model=None, weights: list[np.ndarray] | None = None):
        """The capture at a scale: `model` read here and drawn in the background, or the
        private copy holding `weights` (held only for the forward pass, not the drawing)."""

        def work(scale: float) -> str:
            images = self._images(scale)
            if model is not None:
                self._choose(model)
                self.draw_later(self._write, tag, self._forward(model, images), images)
            else:
                with self._copy.loaded(weights) as copy:
                    outputs = self._forward(copy, images)
                self._write(tag, outputs, images)
            return f"{len(images)} of {len(self.probe)} probe images"

        return work

    def _forward(self, model, images: np.ndarray) -> dict[str, np.ndarray]:
        probe = self.probe[images]
        return layer_outputs(model, probe, self._chosen, batch_size=self._batch, compiled=True)

    def _read_copy(self, tag: str, epoch: int, final: bool, weights: list[np.ndarray]) -> None:
        if self._chosen is None:
            with self._copy.held() as model:
                self.set_up(self._choose, model)
        self.sized(tag, epoch, final, self._units, self._work(tag, weights=weights))

    def _write(self, tag: str, outputs: dict[str, np.ndarray], images: np.ndarray) -> None:
        """The capture's NPZ, and a mural PNG per layer with spatial output (background);
        `images`: which probe images `outputs` are of."""
        shown = {name: self._shown(value) for name, value in outputs.items()}
        arrays: dict[str, np.ndarray] = {}
        for name, (value, channels) in shown.items():
            arrays[file_stem(name)] = value
            if channels is not None:
                arrays[f"{file_stem(name)}_channels"] = channels
        keep = self._kept_images(sum(v.nbytes for v, _ in shown.values()) // len(images), images)
        arrays = {k: v[keep] if k in _stems(shown) else v for k, v in arrays.items()}
        atomic.write_npz(
            self.path(f"activations_{tag}.npz"), {**arrays, "probe_index": images[keep]}
        )
        row = int(np.flatnonzero(images == self.image_index)[0])
        for name, (value, channels) in shown.items():
            if channels is None:
                continue
            title = f"{name}  {tag}: {_maps_shown(len(channels), outputs[name].shape[-1])}"
            mural = channel_mural(value[row], channels, title)
            atomic.write_png(self.path(f"{file_stem(name)}_{tag}.png"), mural)

    def _shown(self, value: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """`(float16 outputs of the channels shown, their indices)`; all of a vector, no
        indices."""
        if value.ndim != 4:
            return value.astype(np.float16), None
        channels = most_active(value, self.max_channels)
        return value[..., channels].astype(np.float16), channels

    def _kept_images(self, per_image: int, images: np.ndarray) -> np.ndarray:
        """Rows of `images` the NPZ keeps: the first ones within `max_megabytes`, and always
        image `image_index`'s."""
        count = max(1, min(len(images), self.max_megabytes * MEGABYTE // max(per_image, 1)))
        keep = np.arange(count)
        row = int(np.flatnonzero(images == self.image_index)[0])
        if row >= count:
            keep[-1] = row
        return keep


def _maps_shown(shown: int, total: int) -> str:
    if shown == total:
        return f"all {total} maps"
    return f"the {shown} most active of {total} maps"


def _stems(shown: dict[str, tuple]) -> set[str]:
    return {file_stem(name) for name in shown}
