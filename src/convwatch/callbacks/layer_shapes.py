"""LayerShapes: the model's layer-by-layer output shapes, and the conv arithmetic check."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from convwatch.base import atomic
from convwatch.base.ranges import PositiveInt, validate_ranges
from convwatch.callbacks.capture import Capture
from convwatch.techniques.layer_output_shapes import conv_arithmetic, layer_shapes

logger = logging.getLogger(__name__)


class LayerShapes(Capture):
    """Logs and saves every layer's output shape once, when training begins.

    Writes `layer_shapes.csv` and `layer_shapes.txt` (layer, class, output shape, params) and,
    unless `arithmetic_input` is None, `conv_arithmetic.csv`: document 002's convolutions (3x3
    valid, same, stride 2, ...) built on that input, the formula's size beside Keras'.

    Args:
        out_dir: folder to write to; created when first needed.
        arithmetic_input: input shape for the conv arithmetic check. Defaults to (32, 32, 3).
        verbose: 1 logs both tables. Defaults to 1.
    """

    group = "Every layer's output shape and parameter count."

    @validate_ranges
    def __init__(
        self,
        out_dir: str | os.PathLike[str] = "layer_shapes",
        arithmetic_input: Sequence[PositiveInt] | None = (32, 32, 3),
        verbose: int = 1,
    ):
        super().__init__(out_dir, None, None, at_train_begin=True, verbose=verbose)
        self.arithmetic_input = tuple(arithmetic_input) if arithmetic_input else None

    def capture(self, tag: str, epoch: int, step: int) -> None:
        rows = layer_shapes(self.model)
        fields = ["layer", "class", "output_shape", "params"]
        atomic.write_csv(self.path("layer_shapes.csv"), rows, fields)
        text = _table(rows, fields)
        atomic.write_text(self.path("layer_shapes.txt"), text)
        if self.verbose:
            logger.info("%s", text.rstrip("\n"))
        if self.arithmetic_input:
            checks = conv_arithmetic(self.arithmetic_input)
            fields = ["input", "kernel", "stride", "padding", "formula", "keras", "agree"]
            atomic.write_csv(self.path("conv_arithmetic.csv"), checks, fields)
            if self.verbose:
                logger.info("%s", _table(checks, fields).rstrip("\n"))


def _table(rows: list[dict[str, Any]], fields: list[str]) -> str:
    widths = [max(len(f), *(len(str(r[f])) for r in rows)) for f in fields]
    lines = [[f for f in fields]] + [[str(r[f]) for f in fields] for r in rows]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n"
        for line in lines
    )
