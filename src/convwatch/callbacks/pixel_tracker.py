"""PixelTracker: the channel values of chosen output pixels, every step, for one input image."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from convwatch.base import atomic
from convwatch.base.layout import file_stem
from convwatch.base.ranges import NonNegativeFloat, validate_ranges
from convwatch.callbacks.capture import Capture, Every
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots.traces import pixel_chart_figure
from convwatch.techniques.convergence import peak, settled_step, steps_to_within
from convwatch.techniques.outputs import model_outputs


class PixelTracker(Capture):
    """Records what the model outputs at a few pixels of one image as training goes.

    Each capture runs the model on `probe` and keeps the channel values (R, G, B for an image) at
    every pixel of `pixels`, for one model output, a layer's output, or every output of a
    multi-output model; step 0 is the untrained model, step k the model after k weight
    updates. At train end it writes, per tracked series, `<series>.csv` (one row per
    capture: step and channel values) and `<series>.png` (the channels over the steps, with the
    target band), and `pixel_tracker.json` with the figures below, which `final_metrics()` also
    returns for the run's metrics.json as `pixel_<series>_<figure>`: the last value of each
    channel (`_r`, `_g`, `_b`), `_steps_to_target` (first step within `±tolerance` of the target
    on every channel, or None), `_settled_step` (from when it stays there), `_peak_r/g/b` and
    `_peak_step` (the largest values on the way: an explosion shows here).

    Args:
        probe: one model input, `(1, H, W, C)` or `(H, W, C)`.
        pixels: `{name: (row, col)}`, or one `(row, col)` (named "pixel").
        output: which output to read: None (default) every model output, an int the index of
            one, a str the name of any layer (its output is read the same way).
        target: what the pixels should become: one value per channel, or an image `(H, W, C)`
            (each pixel's own target is read from it). None: no steps-to-target figures.
        tolerance: allowed distance on each channel. Defaults to 2.0.
        every_n_steps: capture every this many batches. Defaults to 1 (every step).
        out_dir: folder to write to; created when first needed.

    Example:
        >>> cb = PixelTracker(x[:1], {"centre": (19, 19)}, target=(255, 0, 0))  # doctest: +SKIP
        >>> model.fit(x, y, epochs=100, callbacks=[cb]); cb.final_metrics()  # doctest: +SKIP
    """

    group = "Chosen output pixels' values at every training step, against the target."
    # circles: also track the centre of each named circle of the data (`RunInputs.landmarks`)
    run_options = {"circles": tuple[str, ...]}
    supplied = frozenset({"out_dir", "probe"})

    @classmethod
    def from_run(cls, inputs: RunInputs, circles: Sequence[str] = (), **options: Any) -> Capture:
        """The first test image, its pixels and circle centres; the target defaults to the
        first test target where the targets are images."""
        pixels = options.pop("pixels", {})
        pixels = dict(pixels) if isinstance(pixels, Mapping) else {"pixel": pixels}
        for circle in circles:
            if circle not in inputs.landmarks:
                raise ValueError(
                    f"PixelTracker circles: the {inputs.dataset or 'run'!r} data has no circle "
                    f"{circle!r}; its landmarks: {', '.join(inputs.landmarks) or 'none'}. "
                    f"Received: circles={list(circles)!r}"
                )
            pixels[f"{circle}_centre"] = tuple(inputs.landmarks[circle])
        options.setdefault("target", inputs.target_image())
        return cls(inputs.x_test[:1], pixels, out_dir=inputs.out_dir, **options)

    @validate_ranges
    def __init__(
        self,
        probe: Any,
        pixels: Mapping[str, Sequence[int]] | Sequence[int],
        output: int | str | None = None,
        target: Any = None,
        tolerance: NonNegativeFloat = 2.0,
        every_n_steps: Every = 1,
        out_dir: str | os.PathLike[str] = "pixel_tracker",
    ):
        super().__init__(out_dir, None, every_n_steps)
        self.probe = np.asarray(probe)
        if self.probe.ndim == 3:
            self.probe = self.probe[np.newaxis]
        if self.probe.ndim != 4 or len(self.probe) != 1:
            raise ValueError(f"probe must be one image. Received shape {self.probe.shape}")
        if not isinstance(pixels, Mapping):
            pixels = {"pixel": pixels}
        self.pixels = {str(k): tuple(int(i) for i in v) for k, v in pixels.items()}
        height, width = self.probe.shape[1:3]
        for name, spot in self.pixels.items():
            if len(spot) != 2 or not (0 <= spot[0] < height and 0 <= spot[1] < width):
                raise ValueError(
                    f"pixel {name!r} must be (row, col) inside {height}x{width}. Received {spot}"
                )
        self.output = output
        self.target = None if target is None else np.asarray(target, dtype=np.float64)
        self.tolerance = float(tolerance)
        self._steps: list[int] = []
        self._values: dict[str, list[np.ndarray]] = {}  # series -> one row per capture
        self._pixel_of: dict[str, str] = {}  # series -> the name of its pixel
        self._summary: dict[str, dict[str, Any]] = {}

    needs_built_model = False  # calling the model on the probe builds it

    def reset(self) -> None:
        self._steps, self._values, self._pixel_of, self._summary = [], {}, {}, {}

    def _target(self, spot: tuple[int, int]) -> np.ndarray | None:
        if self.target is None or self.target.ndim < 3:
            return self.target
        return self.target[spot]

    def capture(self, tag: str, epoch: int, step: int) -> None:
        self._steps.append(step)
        outputs = model_outputs(self.model, self.probe, self.output)
        for output, batch in outputs.items():
            image = batch[0]
            for name, spot in self.pixels.items():
                series = f"{output}_{name}" if len(outputs) > 1 else name
                self._pixel_of[series] = name
                self._values.setdefault(series, []).append(np.asarray(image[spot], np.float64))

    def finish(self) -> None:
        steps = np.array(self._steps)
        for series, rows in self._values.items():
            self._summary[series] = self._write_series(series, steps, np.stack(rows))
        atomic.write_json(self.path("pixel_tracker.json"), self._summary)

    def _write_series(self, series: str, steps: np.ndarray, values: np.ndarray) -> dict[str, Any]:
        spot = self.pixels[self._pixel_of[series]]
        target = self._target(spot)
        channels = _channel_names(values.shape[1])
        figures: dict[str, Any] = {c: float(v) for c, v in zip(channels, values[-1], strict=True)}
        if target is not None:
            figures["steps_to_target"] = steps_to_within(values, target, self.tolerance, steps)
            figures["settled_step"] = settled_step(values, target, self.tolerance, steps)
        top, top_step = peak(values, steps)
        figures.update({f"peak_{c}": float(v) for c, v in zip(channels, top, strict=True)})
        figures["peak_step"] = top_step
        # the peak is worth marking where it overshot the target and came back (an explosion)
        highest = float(np.nanmax(top)) if np.isfinite(top).any() else float("nan")
        ceiling = max(
            float(np.max(values[-1])), -np.inf if target is None else float(np.max(target))
        )
        overshoot = top_step if highest > ceiling + self.tolerance else None
        stem = file_stem(series)
        rows = [
            {"step": int(s), **dict(zip(channels, map(float, v), strict=True))}
            for s, v in zip(steps, values, strict=True)
        ]
        atomic.write_csv(self.path(f"{stem}.csv"), rows, ["step", *channels])
        chart = pixel_chart_figure(
            steps,
            values,
            channels,
            target=target,
            tolerance=self.tolerance,
            title=f"{series}: output pixel (row, col) {spot}",
            marks={
                f"within ±{self.tolerance:g}": figures.get("steps_to_target"),
                "peak": overshoot,
            },
        )
        atomic.write_figure(self.path(f"{stem}.png"), chart)
        target_list = None if target is None else np.asarray(target).tolist()
        return {"pixel": list(spot), "target": target_list, "tolerance": self.tolerance, **figures}

    def final_metrics(self) -> dict[str, Any]:
        """The figures of the last run, flat: `pixel_<series>_<figure>`, for metrics.json."""
        return {
            f"pixel_{series}_{key}": value
            for series, figures in self._summary.items()
            for key, value in figures.items()
            if key not in ("pixel", "target", "tolerance")
        }


def _channel_names(count: int) -> list[str]:
    return ["r", "g", "b"] if count == 3 else [f"c{i}" for i in range(count)]
