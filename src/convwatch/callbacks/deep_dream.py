"""DeepDream: a photo changed to show more of what chosen layers respond to (seed document 001)."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from convwatch.base import atomic
from convwatch.base.ranges import Photo, PhotoSize, PositiveFloat, PositiveInt, validate_ranges
from convwatch.callbacks.capture import Capture, Every, TrainEndCapture
from convwatch.callbacks.image_networks import (
    check_network,
    input_channels,
    match_channels,
    own_network,
    use_imagenet,
)
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots.optimized_images import image_columns, loss_curves
from convwatch.techniques.any_size import any_size_extractor
from convwatch.techniques.backbones import (
    INCEPTION_DREAM_LAYERS,
    imagenet_network,
    imagenet_weights_path,
)
from convwatch.techniques.deep_dream import DreamSettings, deep_dream
from convwatch.techniques.layers import find_layers

logger = logging.getLogger(__name__)
IMAGENET = "inception_v3"  # the classic Deep Dream network


class DeepDream(TrainEndCapture):
    """Deep Dream of fixed images at train end (and every `every_n_epochs` epochs if set).

    Gradient ascent on the images to make the chosen layers' activations larger, over a few
    octaves (scales), as `convwatch.techniques.deep_dream` does. Writes `dream_<tag>.png`
    (each image beside its dream), `loss_<tag>.png` and `dream_<tag>.npz`, and says in
    `run_notes()` which network dreamed.

    Args:
        images: `(N, H, W, C)` or `(H, W, C)` pictures in [0, 1]; fitted to the network's
            channels (RGB to gray, or gray repeated).
        out_dir: folder to write to; created when first needed.
        network: "model" (the model being trained, default), "imagenet" (InceptionV3 with
            ImageNet weights from the Keras cache: an error if they are not there) or "auto"
            (imagenet when cached, else the model, said to be a fallback).
        layers: layers whose activations grow. Defaults to the model's last convolution, or
            keras.io's mixed4-mixed7 for InceptionV3.
        octaves, octave_scale, steps, step_size: as `techniques.deep_dream.DreamSettings`,
            whose defaults they take; checked when the callback is made, not after training.
        every_n_epochs: also dream every this many epochs; None (default): at train end only.
        verbose: 1 logs a line per dream. Defaults to 0.

    Example:
        >>> cb = DeepDream(photo, out_dir="run/dream", layers=["conv2"])  # doctest: +SKIP
    """

    group = "A photo changed by gradient ascent so that the chosen layers fire harder."
    captions = (
        (r"dream_{tag}\.png", "The photo (left) and its dream, {tag}."),
        (r"loss_{tag}\.png", "The activation being grown, step by step at each octave, {tag}."),
        (r"dream_{tag}\.npz", "Photo, dream and per-step activation as arrays, {tag}."),
    )
    # photo: the picture dreamed on, a sample photo by name or an image file's path (default
    # "china"); size: its long side in pixels (default 192; None: its own size).
    run_options = {"photo": Photo, "size": PhotoSize}
    supplied = frozenset({"out_dir", "images"})

    @classmethod
    def from_run(
        cls, inputs: RunInputs, photo: str = "china", size: int | None = 192, **options: Any
    ) -> Capture:
        return cls(inputs.photo(photo, size), out_dir=inputs.out_dir, **options)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """ValueError for settings `deep_dream` cannot work with or an unknown network; a
        ConvwatchError for network="imagenet" without the weights in the Keras cache."""
        names = {field.name for field in dataclasses.fields(DreamSettings)}
        DreamSettings(**{k: v for k, v in options.items() if k in names})
        check_network(options.get("network", "model"), IMAGENET)

    @validate_ranges
    def __init__(
        self,
        images: Any,
        out_dir: str | os.PathLike[str] = "deep_dream",
        network: str = "model",
        layers: Sequence[str] | None = None,
        octaves: PositiveInt = DreamSettings.octaves,
        octave_scale: PositiveFloat = DreamSettings.octave_scale,  # > 1 when octaves > 1
        steps: PositiveInt = DreamSettings.steps,
        step_size: PositiveFloat = DreamSettings.step_size,
        every_n_epochs: Every = None,
        verbose: int = 0,
    ):
        super().__init__(out_dir, every_n_epochs, verbose)
        x = np.asarray(images, np.float32)
        self.images = x[None] if x.ndim == 3 else x
        if self.images.ndim != 4 or not len(self.images) or self.images.shape[-1] not in (1, 3):
            raise ValueError(f"images must be (N, H, W, 1|3) in [0, 1]. Received: {x.shape}")
        self.settings = DreamSettings(octaves, octave_scale, steps, step_size)  # checks them
        self.network = check_network(network, IMAGENET)
        self.layers = tuple(layers) if layers else None
        self._imagenet: Any = None
        self._note: str | None = None

    def _dreamer(self) -> tuple[Any, Sequence[str] | None, str]:
        """The network to dream with, its layers, and a sentence saying which it is."""
        if use_imagenet(self.network, IMAGENET):
            if self._imagenet is None:
                self._imagenet = imagenet_network(IMAGENET)
            layers = self.layers or INCEPTION_DREAM_LAYERS
            note = (
                f"InceptionV3 with ImageNet weights ({imagenet_weights_path(IMAGENET)}), "
                f"layers {', '.join(layers)}"
            )
            return self._imagenet, layers, note
        layers = self.layers or tuple(find_layers(self.model, ("conv",))[-1:])
        what = f"this run's own model {self.model.name!r}, layers {', '.join(layers)}"
        return self.model, layers, own_network(self.network, IMAGENET, what)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        # A model that cannot dream at other sizes (a fixed-size, branching graph) or a layer
        # that does not exist should fail now, not after the training.
        if self.model.built:
            network, layers, _ = self._dreamer()
            any_size_extractor(network, list(layers))

    def capture(self, tag: str, epoch: int, step: int) -> None:
        network, layers, note = self._dreamer()
        self._note = f"Deep Dream network: {note}"
        images = match_channels(self.images, input_channels(network))
        dreams, losses = deep_dream(
            network,
            images,
            layers=layers,
            **dataclasses.asdict(self.settings),
            return_losses=True,
        )
        # one curve per octave, each on the steps it took
        octave_losses = np.split(np.asarray(losses), self.settings.octaves)
        title = f"Deep Dream, {tag}: {network.name} {', '.join(layers)}"
        atomic.write_figure(
            self.path(f"dream_{tag}.png"), image_columns({"image": images, "dream": dreams}, title)
        )
        atomic.write_figure(
            self.path(f"loss_{tag}.png"),
            loss_curves(
                {f"octave {i + 1}": part for i, part in enumerate(octave_losses)},
                title,
                ylabel="mean squared activation (grown)",
            ),
        )
        atomic.write_npz(
            self.path(f"dream_{tag}.npz"),
            {"images": images, "dreams": dreams, "losses": losses, "layers": np.array(layers)},
        )
        if self.verbose:
            logger.info("DeepDream: %s in %s", tag, self.out_dir)

    def run_notes(self) -> list[str]:
        """Which network dreamed, in a sentence (for the console, run.json and the report)."""
        return [self._note] if self._note else []
