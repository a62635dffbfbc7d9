"""Interpretation: saliency, occlusion, Grad-CAM and guided backprop maps of fixed images."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from convwatch.base import atomic
from convwatch.base.ranges import FiniteFloat, NonNegativeInt, PositiveInt, validate_ranges
from convwatch.callbacks.capture import Capture, Every, TrainEndCapture
from convwatch.callbacks.interpretation_maps import TECHNIQUES, Settings, reading, technique_maps
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots.interpretation import interpretation_figure
from convwatch.techniques import background_value

logger = logging.getLogger(__name__)

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
        verbose: 1 logs a line per capture. Defaults to 0.

    Example:
        >>> cb = Interpretation(x[:6], y[:6], out_dir="run/why")  # doctest: +SKIP
    """

    group = (
        "Why the model predicts what it does: the pixels and regions each prediction rests on, "
        "one row per image."
    )
    captions = (
        (
            r"saliency_{tag}\.png",
            "Saliency, {tag}: one row per image, titled with its true class, the predicted "
            "class and their probabilities; then how much each pixel moves p(true class) "
            "(|gradient|, the colour bar in its units, each row on its own scale) and that map "
            "over the image.",
        ),
        (
            r"smoothgrad_{tag}\.png",
            "SmoothGrad, {tag}: as the saliency figure, with the gradient averaged over noisy "
            "copies of each image before its size is taken, which removes most of the speckle.",
        ),
        (
            r"occlusion_{tag}\.png",
            "Occlusion, {tag}: per image (titled with its true and predicted class), the drop in "
            "p(true class) when a square patch hides each pixel, on a scale centred on 0 that "
            "the row's maps share: red, hiding it lowers p(true); blue, raises it. Left: a grey "
            "patch; right: a patch of the background's value (the commonest border pixel), "
            "which changes nothing where it covers only background, so its red marks the "
            "object's evidence. The black line outlines the object.",
        ),
        (
            r"grad_cam_{tag}\.png",
            "Grad-CAM, {tag}: per image (titled with its true and predicted class), where the "
            "conv layer named above the column holds evidence for the true class (1 = the "
            "row's peak), and that map over the image; a row with no positive evidence says so.",
        ),
        (
            r"guided_backprop_{tag}\.png",
            "Guided backpropagation, {tag}: per image (titled with its true and predicted "
            "class), the gradient of p(true class) through ReLUs that pass only positive "
            "gradients, on a scale centred on 0: red, a brighter pixel there raises p(true).",
        ),
        (
            r"interpretation_{tag}\.npz",
            "Every map as arrays, {tag}, with the images, true labels, predicted classes, the "
            "probabilities (all, p_true, p_predicted) and the two occlusion patches' values.",
        ),
    )
    run_options = {"size": PositiveInt}  # the first `size` test images, one row each
    supplied = frozenset({"out_dir", "images", "labels", "class_names"})

    @classmethod
    def from_run(cls, inputs: RunInputs, size: int = 6, **options: Any) -> Capture:
        return cls(inputs.x_test[:size], **inputs.labelled_test(cls.__name__, size), **options)

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
        x = self.images
        fill = (float(x.min()) + float(x.max())) / 2 if self.fill is None else float(self.fill)
        background = self.background_fill
        background = background_value(x) if background is None else float(background)
        return Settings(self.layer, self.patch, self.stride, fill, background, self.smooth_samples)

    def _name(self, label: int) -> str:
        names = self.class_names
        return names[label] if names and 0 <= label < len(names) else str(label)

    def capture(self, tag: str, epoch: int, step: int) -> None:
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
            logger.info(
                "Interpretation: %s for %s in %s", ", ".join(self.techniques), tag, self.out_dir
            )


def _are_probabilities(outputs: np.ndarray) -> bool:
    """True where each row is in [0, 1] and sums to 1 (a softmax), so "p" is the right word."""
    in_range = bool(np.all(outputs >= 0) and np.all(outputs <= 1))
    return in_range and bool(np.allclose(outputs.sum(-1), 1.0, atol=1e-3))
