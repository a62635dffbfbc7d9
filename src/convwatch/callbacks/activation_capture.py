"""ActivationCapture: the feature maps of a fixed probe batch, saved as training goes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from convwatch.base import atomic
from convwatch.base.layout import file_stem
from convwatch.base.ranges import NonNegativeInt, PositiveInt, validate_ranges
from convwatch.callbacks.capture import Capture, Every
from convwatch.callbacks.model_copy import ModelCopy, private_copy, snapshot
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots import caption_frame, feature_map_mural, to_uint8_frame
from convwatch.techniques import layer_outputs


class ActivationCapture(Capture):
    """Saves the outputs of chosen layers for a fixed probe batch on a schedule.

    Each capture writes `activations_<tag>.npz` (one array per layer, keyed by its file-safe
    name, for the whole probe batch; load with `allow_pickle=False`) and, for every layer with
    spatial output, `<layer>_<tag>.png`: a mural of the feature maps of probe image
    `image_index`. Tags are `epoch000` (untrained), `epoch001`, ... or `step000100`, ...

    The training thread only copies the weights; the forward pass (on a private copy of the
    model, `model_copy.py`), the murals and the files are background work, done when `fit`
    returns. A model that cannot be copied, or one not built yet, gives the forward pass on
    the training thread instead.

    Args:
        probe: a batch of model inputs, `(N, H, W, C)`, kept fixed over training.
        layers: layer names (nested layers as `outer/inner`). Defaults to every Conv2D,
            pooling and Dense layer.
        every_n_epochs: capture every this many epochs; 0 or None disables. Defaults to 1.
        every_n_steps: capture every this many batches; 0 or None disables. Defaults to None.
        out_dir: folder to write to; created when first needed.
        image_index: which probe image the murals show. Defaults to 0.

    Example:
        >>> cb = ActivationCapture(x_test[:8], out_dir="run/activations")  # doctest: +SKIP
        >>> model.fit(x, y, epochs=3, callbacks=[cb])  # doctest: +SKIP
    """

    group = "Feature maps of a fixed probe batch, captured as training goes."
    captions = (
        (r"activations_{tag}\.npz", "Every captured layer's output for the probe batch, {tag}."),
        (r"(?P<layer>.+)_{tag}\.png", "{layer}: one probe image's feature maps, {tag}."),
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
    ):
        super().__init__(out_dir, every_n_epochs, every_n_steps)
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
        self.reset()

    needs_built_model = False  # calling the model on the probe builds it

    def reset(self) -> None:
        self.captured = []
        self._copy: ModelCopy | None = None
        self._copied = False

    def capture(self, tag: str, epoch: int, step: int) -> None:
        if not self._copied and self.model.built:  # once per fit: cloning needs the live model
            self._copy, self._copied = private_copy(self.model), True
        if self._copy is not None:
            self.later(self._read_copy, tag, snapshot(self.model))
        else:  # unbuilt (the probe builds it) or not copyable: the forward pass here
            self.later(self._write, tag, layer_outputs(self.model, self.probe, self.layers))
        self.captured.append(tag)

    def _read_copy(self, tag: str, weights: list[np.ndarray]) -> None:
        with self._copy.loaded(weights) as model:
            outputs = layer_outputs(model, self.probe, self.layers)
        self._write(tag, outputs)

    def _write(self, tag: str, outputs: dict[str, np.ndarray]) -> None:
        """The capture's NPZ, and a mural PNG per layer with spatial output (background)."""
        atomic.write_npz(
            self.path(f"activations_{tag}.npz"),
            {file_stem(name): value for name, value in outputs.items()},
        )
        for name, value in outputs.items():
            if value.ndim != 4:
                continue
            grid = feature_map_mural(value[self.image_index])
            frame = caption_frame(to_uint8_frame(grid, cmap="viridis"), f"{name}  {tag}")
            atomic.write_png(self.path(f"{file_stem(name)}_{tag}.png"), frame)
