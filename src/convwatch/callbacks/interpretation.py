"""Interpretation: saliency, occlusion, Grad-CAM and guided backprop maps of fixed images."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from convwatch.base import atomic
from convwatch.base.ranges import FiniteFloat, NonNegativeInt, PositiveInt, validate_ranges
from convwatch.callbacks.capture import Every, TrainEndCapture
from convwatch.callbacks.interpretation_maps import TECHNIQUES, Settings, reading, technique_maps

DEFAULT_TECHNIQUES = ("saliency", "occlusion", "grad_cam", "guided_backprop")


class Interpretation(TrainEndCapture):
    """Why the model predicts what it does, for a fixed set of images, one row per image.

    At train end (and every `every_n_epochs` epochs if set) it computes each technique for
    `images` and their true `labels`, and writes `<technique>_<tag>.png`: per row, the image
    with its true class, the predicted class and their probabilities, then the map(s) with a
    colour bar saying what the colour measures, and (saliency, SmoothGrad, Grad-CAM) the map
    over the image. Occlusion is drawn twice, on one signed scale: with a `fill` patch and with
    a patch of the background's value, since a grey patch on a black background changes the
    prediction by adding a shape, not by hiding one. `interpretation_<tag>.npz` holds the
    images, labels, `predicted`, `probabilities` (N, K), `p_true`, `p_predicted`, every map
    (`occlusion`: the `fill` patch's, `occlusion_background`) and `occlusion_fills`.

    Args:
        images: model inputs `(N, H, W, C)`, kept fixed; a handful.
        labels: class ids `(N,)` (or one-hot `(N, K)`); the maps explain these classes.
        techniques: any of "saliency", "smoothgrad", "occlusion", "grad_cam",
            "guided_backprop". Defaults to all but "smoothgrad".
        every_n_epochs: also capture every this many epochs; 0 or None (default) means only
            at train end.
        out_dir: folder to write to; created when first needed.
        class_names: names for the class ids, for the row labels.
        layer: Grad-CAM's layer. Defaults to the last convolution layer.
        patch: occlusion patch side. Defaults to 4.
        stride: occlusion stride. Defaults to 1.
        fill: the first occlusion patch's value. Defaults to None: mid-grey, halfway between
            the images' lowest and highest value.
        background_fill: the second patch's value. Defaults to None: the most common value of
            the images' border pixels (`techniques.background_value`).
        smooth_samples: SmoothGrad's noisy copies per image. Defaults to 16.
        verbose: 1 prints a line per capture. Defaults to 0.

    Example:
        >>> cb = Interpretation(x[:6], y[:6], out_dir="run/why")  # doctest: +SKIP
    """

    @validate_ranges
    def __init__(
        self,
        images: Any,
        labels: Any,
        techniques: Sequence[str] = DEFAULT_TECHNIQUES,
        every_n_epochs: Every = None,
        out_dir: str | os.PathLike[str] = "interpretation",
        class_names: Sequence[str] | None = None,
        layer: str | None = None,
        patch: PositiveInt = 4,
        stride: PositiveInt = 1,
        fill: FiniteFloat | None = None,
        background_fill: FiniteFloat | None = None,
        smooth_samples: NonNegativeInt = 16,
        verbose: int = 0,
    ):
        super().__init__(out_dir, every_n_epochs, verbose)
        self.images = np.asarray(images, dtype=np.float32)
        labels = np.asarray(labels)
        self.labels = labels.argmax(-1) if labels.ndim == 2 else labels.astype(np.int32)
        if self.images.ndim != 4 or len(self.images) != len(self.labels) or not len(self.images):
            raise ValueError(
                "images must be (N, H, W, C) with one label each. Received: "
                f"images={self.images.shape}, labels={labels.shape}"
            )
        bad = [t for t in techniques if t not in TECHNIQUES]
        if bad or not techniques:
            raise ValueError(f"techniques must be among {TECHNIQUES}. Received: {techniques}")
        self.techniques = tuple(techniques)
        self.class_names = tuple(class_names) if class_names is not None else None
        self.layer, self.patch, self.stride = layer, patch, stride
        self.fill, self.background_fill = fill, background_fill
        self.smooth_samples = smooth_samples

    def _settings(self) -> Settings:
        from convwatch.techniques import background_value

        x = self.images
        fill = (float(x.min()) + float(x.max())) / 2 if self.fill is None else float(self.fill)
        background = self.background_fill
        background = background_value(x) if background is None else float(background)
        return Settings(self.layer, self.patch, self.stride, fill, background, self.smooth_samples)

    def _name(self, label: int) -> str:
        names = self.class_names
        return names[label] if names and 0 <= label < len(names) else str(label)

    def capture(self, tag: str, epoch: int, step: int) -> None:
        import keras

        from convwatch.plots.interpretation import interpretation_figure

        outputs = keras.tree.flatten(self.model(self.images, training=False))[0]
        outputs = keras.ops.convert_to_numpy(outputs).astype(np.float32)
        score = "p" if _are_probabilities(outputs) else "score"
        predicted = outputs.argmax(-1)
        rows = np.arange(len(outputs))
        names = [self._name(c) for c in range(outputs.shape[-1])]
        arrays = {"images": self.images, "labels": self.labels, "predicted": predicted}
        arrays |= {"class_names": np.array(names), "probabilities": outputs}
        arrays |= {"p_true": outputs[rows, self.labels], "p_predicted": outputs[rows, predicted]}
        settings = self._settings()
        for technique in self.techniques:
            maps, columns = technique_maps(
                self.model, technique, self.images, self.labels, settings, score
            )
            arrays |= maps
            title = f"{reading(technique, settings, score)}\n{tag}"
            figure = interpretation_figure(
                self.images, columns, self.labels, outputs, names, title, score
            )
            atomic.write_figure(self.path(f"{technique}_{tag}.png"), figure)
        atomic.write_npz(self.path(f"interpretation_{tag}.npz"), arrays)
        if self.verbose:
            print(f"Interpretation: {', '.join(self.techniques)} for {tag} in {self.out_dir}")


def _are_probabilities(outputs: np.ndarray) -> bool:
    """True where each row is in [0, 1] and sums to 1 (a softmax), so "p" is the right word."""
    in_range = bool(np.all(outputs >= 0) and np.all(outputs <= 1))
    return in_range and bool(np.allclose(outputs.sum(-1), 1.0, atol=1e-3))
