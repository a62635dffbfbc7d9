"""Interpretation: saliency, occlusion, Grad-CAM and guided backprop maps of fixed images."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from convwatch import results
from convwatch.callbacks.capture import Every, TrainEndCapture
from convwatch.ranges import FiniteFloat, NonNegativeInt, PositiveInt, validate_ranges

TECHNIQUES = ("saliency", "smoothgrad", "occlusion", "grad_cam", "guided_backprop")
DEFAULT_TECHNIQUES = ("saliency", "occlusion", "grad_cam", "guided_backprop")


class Interpretation(TrainEndCapture):
    """Why the model predicts what it does, for a fixed set of images, one row per image.

    At train end (and every `every_n_epochs` epochs if set) it computes each technique for
    `images` and their true `labels`, and writes `<technique>_<tag>.png` (per row: the image,
    its heat map, the map over the image; guided backprop: the image and its gradient) and
    `interpretation_<tag>.npz` (images, labels, predicted classes and every map).

    Args:
        images: model inputs `(N, H, W, C)`, kept fixed; a handful.
        labels: class ids `(N,)` (or one-hot `(N, K)`); the maps explain these classes.
        techniques: any of "saliency", "smoothgrad", "occlusion", "grad_cam",
            "guided_backprop". Defaults to all but "smoothgrad".
        every_n_epochs: also capture every this many epochs; 0 or None (default) means only
            at train end.
        out_dir: folder to write to; created when first needed.
        class_names: names for the class ids, for the captions.
        layer: Grad-CAM's layer. Defaults to the last convolution layer.
        patch: occlusion patch side. Defaults to 4.
        stride: occlusion stride. Defaults to 1.
        fill: occlusion fill value. Defaults to 0.0.
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
        fill: FiniteFloat = 0.0,
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
        self.layer, self.patch, self.stride, self.fill = layer, patch, stride, fill
        self.smooth_samples = smooth_samples

    def _maps(self, technique: str) -> np.ndarray:
        from convwatch import techniques as t

        x, y = self.images, self.labels
        if technique == "saliency":
            return t.saliency_map(self.model, x, y)
        if technique == "smoothgrad":
            return t.saliency_map(self.model, x, y, smooth_samples=self.smooth_samples)
        if technique == "occlusion":
            return t.occlusion_map(self.model, x, y, self.patch, self.stride, self.fill)
        if technique == "grad_cam":
            return t.grad_cam(self.model, x, y, layer=self.layer)
        return t.guided_backprop(self.model, x, y)

    def _name(self, label: int) -> str:
        names = self.class_names
        return names[label] if names and 0 <= label < len(names) else str(label)

    def capture(self, tag: str, epoch: int, step: int) -> None:
        import keras

        from convwatch.plots.interpretation import captioned_rows

        outputs = keras.tree.flatten(self.model(self.images, training=False))[0]
        predicted = keras.ops.convert_to_numpy(outputs).argmax(-1)
        names = np.array([self._name(int(c)) for c in range(int(outputs.shape[-1]))])
        arrays = {"images": self.images, "labels": self.labels, "predicted": predicted}
        arrays["class_names"] = names
        for technique in self.techniques:
            maps = self._maps(technique)
            arrays[technique] = maps
            title = f"{technique}, {tag}"
            signed = technique == "guided_backprop"
            picture = captioned_rows(self.images, maps, title, signed=signed)
            results.write_png(self.path(f"{technique}_{tag}.png"), picture)
        results.write_npz(self.path(f"interpretation_{tag}.npz"), arrays)
        if self.verbose:
            print(f"Interpretation: {', '.join(self.techniques)} for {tag} in {self.out_dir}")
