"""OutputEvolution: what the model draws for one input image, as training goes, as a GIF."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from convwatch.base import atomic
from convwatch.base.ranges import NonNegativeInt, PositiveInt, validate_ranges
from convwatch.callbacks.capture import Capture, Every, MaxFrames
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots import caption_frame, tile, to_uint8_frame
from convwatch.techniques.outputs import model_outputs


class OutputEvolution(Capture):
    """Pictures of the model's image output(s) for one fixed input, and a GIF of them.

    For image-to-image models (a reconstruction net, an autoencoder). Each capture runs the model
    on `probe` and keeps its output images; at train end it writes `output.gif` (every capture,
    the outputs side by side, after the target if one is given, each frame captioned with the
    panels' names, the step and the outputs' value range), `output_<tag>.png` for the first and
    last capture, `input.png` and `target.png`, `outputs.npz` (`images` of shape
    `(frames, outputs, H, W, C)`, `tags`, `names`) and `output_range.csv` (min and max of each
    output at each capture). Values are shown on the scale `value_range` (clipped outside it):
    an output above 255 on a 0-255 image still shows white, and the caption says how far it
    went. A run of a single capture (an untrained model) writes the PNGs but no GIF.

    Args:
        probe: one model input, `(1, H, W, C)` or `(H, W, C)`.
        target: the image the outputs should become, shown first in each frame. Optional.
        outputs: indices of the model outputs to show. Defaults to all of them.
        every_n_steps: capture every this many batches; 0 or None disables. Defaults to 10.
        every_n_epochs: capture every this many epochs; 0 or None disables. Defaults to None.
        out_dir: folder to write to; created when first needed.
        value_range: `(low, high)` drawn as black and white. Defaults to `(0, 255)`.
        max_frames: most captures kept; past it every other one is dropped (the first and the
            newest stay). Defaults to 200.
        frame_ms: GIF frame duration in milliseconds. Defaults to 100.
        size: the frames' long side is scaled up to at least this many pixels. Defaults to 512.

    Example:
        >>> cb = OutputEvolution(x[:1], target=y[0], out_dir="run/output")  # doctest: +SKIP
        >>> model.fit(x, y, epochs=500, callbacks=[cb])  # doctest: +SKIP
    """

    group = "The network's output image as training goes."
    supplied = frozenset({"out_dir", "probe"})

    @classmethod
    def from_run(cls, inputs: RunInputs, **options: Any) -> Capture:
        """The first test image; the target defaults to the first test target where the
        targets are images."""
        options.setdefault("target", inputs.target_image())
        return cls(inputs.x_test[:1], out_dir=inputs.out_dir, **options)

    @validate_ranges
    def __init__(
        self,
        probe: Any,
        target: Any = None,
        outputs: Sequence[NonNegativeInt] | None = None,
        every_n_steps: Every = 10,
        every_n_epochs: Every = None,
        out_dir: str | os.PathLike[str] = "output_evolution",
        value_range: tuple[float, float] = (0.0, 255.0),
        max_frames: MaxFrames = 200,
        frame_ms: PositiveInt = 100,
        size: NonNegativeInt | None = 512,  # None or 0: the grid's own size
    ):
        super().__init__(out_dir, every_n_epochs, every_n_steps)
        self.probe = np.asarray(probe)
        if self.probe.ndim == 3:
            self.probe = self.probe[np.newaxis]
        if self.probe.ndim != 4 or len(self.probe) != 1:
            raise ValueError(f"probe must be one image. Received shape {self.probe.shape}")
        low, high = (float(v) for v in value_range)
        if not (np.isfinite([low, high]).all() and high > low):
            raise ValueError(
                f"`value_range` must be (low, high), finite, low < high. Received {value_range}"
            )
        self.target = None if target is None else np.asarray(target)
        self.outputs = list(outputs) if outputs is not None else None
        self.value_range = (low, high)
        self.max_frames = max_frames
        self.frame_ms = frame_ms
        self.size = size
        self._tags: list[str] = []
        self._images: list[np.ndarray] = []  # one (outputs, H, W, C) array per capture
        self._names: list[str] = []

    needs_built_model = False  # calling the model on the probe builds it

    def reset(self) -> None:
        self._tags, self._images, self._names = [], [], []

    def capture(self, tag: str, epoch: int, step: int) -> None:
        outputs = list(model_outputs(self.model, self.probe).items())
        chosen = [outputs[i] for i in self.outputs] if self.outputs is not None else outputs
        self._names = [name for name, _ in chosen]
        self._images.append(np.stack([batch[0] for _, batch in chosen]))
        self._tags.append(tag)
        if len(self._tags) > self.max_frames:  # thin out, keeping the first and the newest
            keep = list(range(0, len(self._tags) - 1, 2)) + [len(self._tags) - 1]
            self._tags = [self._tags[i] for i in keep]
            self._images = [self._images[i] for i in keep]

    def finish(self) -> None:
        if not self._tags:
            return
        if self._tags[-1] != f"step{self._step:06d}" and self._step > 0:
            self.capture(f"step{self._step:06d}", self._epoch, self._step)  # the final state
        frames = [
            self._frame(images, tag) for images, tag in zip(self._images, self._tags, strict=True)
        ]
        atomic.write_png(self.path("input.png"), self._unit8(self.probe[0]))
        if self.target is not None:
            atomic.write_png(self.path("target.png"), self._unit8(self.target))
        atomic.write_png(self.path(f"output_{self._tags[0]}.png"), frames[0])
        atomic.write_png(self.path(f"output_{self._tags[-1]}.png"), frames[-1])
        if len(frames) > 1:
            atomic.write_gif(self.path("output.gif"), frames, self.frame_ms)
        atomic.write_npz(
            self.path("outputs.npz"),
            {"images": np.stack(self._images), "tags": self._tags, "names": self._names},
        )
        rows = [
            {"tag": tag, "output": name, "min": float(image.min()), "max": float(image.max())}
            for tag, images in zip(self._tags, self._images, strict=True)
            for name, image in zip(self._names, images, strict=True)
        ]
        atomic.write_csv(self.path("output_range.csv"), rows, ["tag", "output", "min", "max"])

    def final_metrics(self) -> dict[str, float]:
        """The last capture's value range of each output: `output_min`, `output_max` (with the
        output's name in front when there are several)."""
        if not self._images:
            return {}
        metrics = {}
        for name, image in zip(self._names, self._images[-1], strict=True):
            prefix = "" if len(self._names) == 1 else f"{name}_"
            metrics[f"{prefix}output_min"] = float(image.min())
            metrics[f"{prefix}output_max"] = float(image.max())
        return metrics

    def _unit8(self, image: Any) -> np.ndarray:
        low, high = self.value_range
        unit = np.clip((np.asarray(image, np.float64) - low) / (high - low), 0.0, 1.0)
        return np.round(unit * 255).astype(np.uint8)

    def _frame(self, images: np.ndarray, tag: str) -> np.ndarray:
        panels = [self._unit8(image) for image in images]
        if self.target is not None:
            panels.insert(0, self._unit8(self.target))
        grid = tile(
            np.stack(panels).astype(np.float32) / 255.0, pad=2, normalize="none", cols=len(panels)
        )
        names = (["target"] if self.target is not None else []) + self._names
        frame = to_uint8_frame(grid, size=self.size)
        font = max(11, frame.shape[1] // 28)
        low, high = float(images.min()), float(images.max())
        frame = caption_frame(frame, "   |   ".join(names), font_size=font)
        return caption_frame(frame, f"{tag}   range [{low:.0f}, {high:.0f}]", font_size=font)
