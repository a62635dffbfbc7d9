"""WeightRange: the smallest and largest weight of each layer's kernel, as training goes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from convwatch.base import atomic
from convwatch.base.layout import file_stem
from convwatch.base.ranges import validate_ranges
from convwatch.callbacks.capture import Capture, Every
from convwatch.techniques import find_layers
from convwatch.techniques.layers import get_layer


class WeightRange(Capture):
    """Records min, max and mean |w| of the kernels of chosen layers on a schedule.

    Writes `weight_range.csv` at train end (one row per capture and layer: tag, step, layer,
    min, max, mean_abs); `final_metrics()` gives `<layer>_kernel_min` / `_kernel_max` of the
    last capture and `<layer>_kernel_absmax_seen`, the largest |w| any capture saw (a learning
    rate that throws the weights far out shows here even when they come back).

    Args:
        layers: layer names. Defaults to every convolution and Dense layer.
        every_n_steps: capture every this many batches; 0 or None disables. Defaults to None.
        every_n_epochs: capture every this many epochs; 0 or None disables. Defaults to 1.
        out_dir: folder to write to; created when first needed.

    Example:
        >>> cb = WeightRange(out_dir="run/weights")  # doctest: +SKIP
    """

    group = "The smallest and largest weight of each layer as training goes."

    @validate_ranges
    def __init__(
        self,
        layers: Sequence[str] | None = None,
        every_n_steps: Every = None,
        every_n_epochs: Every = 1,
        out_dir: str | os.PathLike[str] = "weight_range",
    ):
        super().__init__(out_dir, every_n_epochs, every_n_steps)
        self.layers = list(layers) if layers is not None else None
        self._rows: list[dict[str, Any]] = []

    def reset(self) -> None:
        self._rows = []

    def capture(self, tag: str, epoch: int, step: int) -> None:
        names = (
            self.layers if self.layers is not None else find_layers(self.model, ("conv", "dense"))
        )
        for name in names:
            kernel = getattr(get_layer(self.model, name), "kernel", None)
            if kernel is None:
                raise ValueError(f"WeightRange needs layers with a kernel; {name!r} has none")
            w = np.asarray(keras.ops.convert_to_numpy(kernel), np.float64)
            self._rows.append(
                {
                    "tag": tag,
                    "step": step,
                    "layer": name,
                    "min": float(w.min()),
                    "max": float(w.max()),
                    "mean_abs": float(np.abs(w).mean()),
                }
            )

    def finish(self) -> None:
        if self._rows:
            fields = ["tag", "step", "layer", "min", "max", "mean_abs"]
            atomic.write_csv(self.path("weight_range.csv"), self._rows, fields)

    def final_metrics(self) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for row in self._rows:  # later rows overwrite earlier ones: the last capture wins
            stem = file_stem(row["layer"])
            metrics[f"{stem}_kernel_min"] = row["min"]
            metrics[f"{stem}_kernel_max"] = row["max"]
            seen = max(abs(row["min"]), abs(row["max"]))
            key = f"{stem}_kernel_absmax_seen"
            metrics[key] = max(metrics.get(key, 0.0), seen)
        return metrics
