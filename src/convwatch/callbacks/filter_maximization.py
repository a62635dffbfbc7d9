"""FilterMaximization: what each filter wants to see, by gradient ascent, as training goes."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from convwatch import results
from convwatch.callbacks.capture import Capture, Every
from convwatch.callbacks.naming import file_stem
from convwatch.ranges import NonNegativeInt, PositiveFloat, PositiveInt, Seed, validate_ranges


class FilterMaximization(Capture):
    """Grids of images that maximise each filter's mean activation, and a GIF of them.

    Each capture runs `convwatch.techniques.maximize_filters` (all filters of a layer in one
    compiled call) and writes `<layer>_<tag>.png` (the grid, one tile per filter) and
    `<layer>_<tag>.npz` (`images` `(F, H, W, C)` in [0, 1], `filters`). At train end,
    `<layer>.gif` plays the grids in order.

    Args:
        layers: layer names (Conv2D or Dense). Defaults to every Conv2D layer.
        filters: filter indices to show. Defaults to all, up to `max_filters`.
        every_n_epochs: capture every this many epochs; 0 or None disables. Defaults to 1.
        out_dir: folder to write to; created when first needed.
        steps: gradient-ascent steps. Defaults to 30.
        learning_rate: ascent step size. Defaults to 10.0.
        max_filters: cap on filters per layer when `filters` is None. Defaults to 64.
        seed: seed of the starting noise, the same at every capture. Defaults to 0.
        frame_ms: GIF frame duration in milliseconds. Defaults to 400.
        image_shape: input shape `(H, W, C)` for a model that declares none. Defaults to the
            model's input shape.

    Example:
        >>> cb = FilterMaximization(out_dir="run/max")  # doctest: +SKIP
        >>> model.fit(x, y, epochs=5, callbacks=[cb])  # doctest: +SKIP
    """

    @validate_ranges
    def __init__(
        self,
        layers: Sequence[str] | None = None,
        filters: Sequence[NonNegativeInt] | None = None,
        every_n_epochs: Every = 1,
        out_dir: str | os.PathLike[str] = "filter_maximization",
        steps: PositiveInt = 30,
        learning_rate: PositiveFloat = 10.0,
        max_filters: PositiveInt = 64,
        seed: Seed = 0,
        frame_ms: PositiveInt = 400,
        image_shape: tuple[PositiveInt, ...] | None = None,
    ):
        super().__init__(out_dir, every_n_epochs, None)
        self.layers = list(layers) if layers is not None else None
        self.filters = list(filters) if filters is not None else None
        self.steps = steps
        self.learning_rate = learning_rate
        self.max_filters = max_filters
        self.seed = seed
        self.frame_ms = frame_ms
        self.image_shape = image_shape
        self._frames: dict[str, list[str]] = {}  # PNG paths: frames stay on disk, not in memory

    def reset(self) -> None:
        self._frames = {}

    def _layer_names(self) -> list[str]:
        from convwatch.techniques import find_layers

        return self.layers if self.layers is not None else find_layers(self.model, ("conv",))

    def _filters(self, name: str) -> list[int]:
        from convwatch.techniques.layers import get_layer

        if self.filters is not None:
            return self.filters
        layer = get_layer(self.model, name)
        count = getattr(layer, "filters", None) or getattr(layer, "units", None)
        return list(range(min(int(count), self.max_filters)))

    def capture(self, tag: str, epoch: int, step: int) -> None:
        from convwatch.plots import caption_frame, tile, to_uint8_frame
        from convwatch.techniques import maximize_filters

        for name in self._layer_names():
            filters = self._filters(name)
            images = maximize_filters(
                self.model,
                name,
                filters,
                steps=self.steps,
                learning_rate=self.learning_rate,
                seed=self.seed,
            )
            stem = file_stem(name)
            results.write_npz(
                self.path(f"{stem}_{tag}.npz"), {"images": images, "filters": np.array(filters)}
            )
            grid = tile(images, normalize="none")
            frame = caption_frame(to_uint8_frame(grid, size=320), f"{name}  {tag}")
            png = results.write_png(self.path(f"{stem}_{tag}.png"), frame)
            self._frames.setdefault(name, []).append(str(png))

    def finish(self) -> None:
        from PIL import Image

        for name, paths in self._frames.items():
            frames = [np.asarray(Image.open(p)) for p in paths]
            results.write_gif(self.path(f"{file_stem(name)}.gif"), frames, self.frame_ms)
