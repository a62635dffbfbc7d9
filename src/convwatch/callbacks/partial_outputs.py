"""PartialOutputs: one image's feature maps after several layers, side by side."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from convwatch.base import atomic
from convwatch.base.layout import file_stem
from convwatch.base.ranges import NonNegativeInt, validate_ranges
from convwatch.callbacks.capture import Capture, Every
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots.frames import caption_frame
from convwatch.plots.mural import to_uint8_frame
from convwatch.plots.stages import stages_grid
from convwatch.techniques import layer_outputs


class PartialOutputs(Capture):
    """Shows what each stage does to one image: a row per channel, a column per layer.

    Each capture writes `stages_<tag>.png` (the maps of `layers` side by side, each scaled on
    its own, smaller maps enlarged) and `stages_<tag>.npz` (the raw maps, keyed by layer). It
    captures the untrained model at train begin (`epoch000`), every `every_n_epochs` epochs if
    set, and at train end.

    Args:
        probe: one input image `(H, W, C)` or a batch whose first image is used.
        layers: names of layers with (h, w, F) outputs and the same F (e.g. a conv layer, its
            ReLU and the pooling after it).
        every_n_epochs: also capture every this many epochs; 0 or None (default) disables.
        out_dir: folder to write to; created when first needed.
        size: the picture's long side is enlarged to at least this. Defaults to 800.

    Example:
        >>> cb = PartialOutputs(photo, ["conv", "relu", "pool"], out_dir="s")  # doctest: +SKIP
    """

    group = "One image's feature maps after each chosen layer, side by side."
    captions = (
        (r"stages_{tag}\.png", "Rows: channels; columns: the layers in order, {tag}."),
        (r"stages_{tag}\.npz", "Each layer's maps as arrays, {tag}."),
    )
    supplied = frozenset({"out_dir", "probe"})

    @classmethod
    def from_run(cls, inputs: RunInputs, **options: Any) -> Capture:
        return cls(inputs.x_test[:1], out_dir=inputs.out_dir, **options)

    @validate_ranges
    def __init__(
        self,
        probe: Any,
        layers: Sequence[str],
        every_n_epochs: Every = None,
        out_dir: str | os.PathLike[str] = "partial_outputs",
        size: NonNegativeInt | None = 800,  # None or 0: the grid's own size
    ):
        super().__init__(out_dir, every_n_epochs, None, at_train_begin=True)
        probe = np.asarray(probe, dtype=np.float32)
        self.probe = probe[None] if probe.ndim == 3 else probe[:1]
        if self.probe.ndim != 4 or isinstance(layers, str) or not layers:
            raise ValueError(
                f"probe must be (H, W, C) and layers a non-empty list of names. Received: "
                f"probe={probe.shape}, layers={layers!r}"
            )
        self.layers = list(layers)
        self.size = size
        self._last_tag: str | None = None

    needs_built_model = False  # calling the model on the probe builds it

    def reset(self) -> None:
        self._last_tag = None

    def capture(self, tag: str, epoch: int, step: int) -> None:
        maps = {
            name: out[0] for name, out in layer_outputs(self.model, self.probe, self.layers).items()
        }
        frame = to_uint8_frame(stages_grid(maps), size=self.size)
        caption = f"columns: {' | '.join(self.layers)}; rows: channels ({tag})"
        picture = caption_frame(frame, caption, font_size=max(11, frame.shape[1] // 40))
        atomic.write_png(self.path(f"stages_{tag}.png"), picture)
        atomic.write_npz(self.path(f"stages_{tag}.npz"), {file_stem(n): m for n, m in maps.items()})
        self._last_tag = tag

    def finish(self) -> None:
        if self._last_tag != f"epoch{self._epoch:03d}":
            self.capture(f"epoch{self._epoch:03d}", self._epoch, self._step)
