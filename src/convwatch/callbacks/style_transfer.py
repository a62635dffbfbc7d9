"""StyleTransfer: one picture's content painted in another's style (seed document 001)."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from convwatch.base import atomic
from convwatch.base.ranges import (
    NonNegativeFloat,
    Photo,
    PhotoSize,
    PositiveFloat,
    PositiveInt,
    validate_ranges,
)
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
from convwatch.techniques import backbones as networks
from convwatch.techniques.any_size import any_size_extractor
from convwatch.techniques.layers import find_layers
from convwatch.techniques.style_transfer import StyleSettings, style_transfer

logger = logging.getLogger(__name__)
IMAGENET = "vgg19"  # Gatys et al.'s network


class StyleTransfer(TrainEndCapture):
    """Style transfer of `content` in the style of `style` at train end (or every
    `every_n_epochs` epochs), as `convwatch.techniques.style_transfer` does.

    Writes `style_transfer_<tag>.png` (content, style, result), `loss_<tag>.png` (content,
    style and total loss per step) and `style_transfer_<tag>.npz`, and says in `run_notes()`
    which network the features came from.

    Args:
        content: `(H, W, C)` (or `(1, H, W, C)`) picture in [0, 1] whose layout is kept.
        style: `(H, W, C)` picture in [0, 1] whose textures and colours are taken; any size.
        out_dir: folder to write to; created when first needed.
        network: "model" (the model the callback is attached to, default), "imagenet" (VGG19
            with ImageNet weights from the Keras cache: an error if they are not there) or
            "auto" (imagenet when cached, else the model, said to be a fallback).
        content_layer: layer whose features keep the content. Defaults to block5_conv2 for
            VGG19, "deep" for `networks.random_multiscale_net`, else the last convolution.
        style_layers: layers whose Gram matrices carry the style. Defaults to block1-5_conv1
            for VGG19, the `scale_*` layers of the random net, else every convolution.
        steps, learning_rate, content_weight, style_weight, tv_weight, init: as
            `techniques.style_transfer.StyleSettings`, whose defaults they take; checked when
            the callback is made, not after training.
        every_n_epochs: also run every this many epochs; None (default): at train end only.
        verbose: 1 logs progress. Defaults to 0.

    Example:
        >>> cb = StyleTransfer(photo, painting, network="imagenet")  # doctest: +SKIP
    """

    group = "One picture's layout in another's colours and textures, optimised pixel by pixel."
    captions = (
        (r"style_transfer_{tag}\.png", "Content, style and the result, {tag}."),
        (r"loss_{tag}\.png", "Content, style and total loss per step, {tag}."),
        (r"style_transfer_{tag}\.npz", "Content, style, result and losses as arrays, {tag}."),
    )
    # style: a sample photo by name or an image file's path (default "flower"); style_size:
    # its long side in pixels (default None: the content's long side).
    run_options = {"style": Photo, "style_size": PhotoSize}
    supplied = frozenset({"out_dir", "content", "style"})

    @classmethod
    def from_run(
        cls,
        inputs: RunInputs,
        style: str = "flower",
        style_size: int | None = None,
        **options: Any,
    ) -> Capture:
        """Content: the run's first test image (a photo, with sample_photo data)."""
        content = inputs.x_test[0]
        picture = inputs.photo(style, style_size or max(content.shape[:2]))
        return cls(content, picture, out_dir=inputs.out_dir, **options)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """ValueError for settings `style_transfer` cannot work with or an unknown network; a
        ConvwatchError for network="imagenet" without the weights in the Keras cache."""
        names = {field.name for field in dataclasses.fields(StyleSettings)}
        StyleSettings(**{k: v for k, v in options.items() if k in names})
        check_network(options.get("network", "model"), IMAGENET)

    @validate_ranges
    def __init__(
        self,
        content: Any,
        style: Any,
        out_dir: str | os.PathLike[str] = "style_transfer",
        network: str = "model",
        content_layer: str | None = None,
        style_layers: Sequence[str] | None = None,
        steps: PositiveInt = StyleSettings.steps,
        learning_rate: PositiveFloat = StyleSettings.learning_rate,
        content_weight: NonNegativeFloat = StyleSettings.content_weight,
        style_weight: NonNegativeFloat = StyleSettings.style_weight,
        tv_weight: NonNegativeFloat = StyleSettings.tv_weight,
        init: str = StyleSettings.init,
        every_n_epochs: Every = None,
        verbose: int = 0,
    ):
        super().__init__(out_dir, every_n_epochs, verbose)
        self.content, self.style = _picture("content", content), _picture("style", style)
        self.settings = StyleSettings(
            steps, learning_rate, content_weight, style_weight, tv_weight, init
        )  # checks them now, not after training
        self.network = check_network(network, IMAGENET)
        self.content_layer = content_layer
        self.style_layers = tuple(style_layers) if style_layers else None
        self._imagenet: Any = None
        self._note: str | None = None

    def _features(self) -> tuple[Any, str, Sequence[str], str]:
        """The network, its content layer, its style layers, and a sentence saying which."""
        if use_imagenet(self.network, IMAGENET):
            if self._imagenet is None:
                self._imagenet = networks.imagenet_network(IMAGENET)
            content = self.content_layer or networks.VGG19_CONTENT_LAYER
            style = self.style_layers or networks.VGG19_STYLE_LAYERS
            weights = networks.imagenet_weights_path(IMAGENET)
            return self._imagenet, content, style, f"VGG19 with ImageNet weights ({weights})"
        model = self.model
        if model.name == networks.RANDOM_MULTISCALE:
            content = self.content_layer or networks.RANDOM_CONTENT_LAYER
            style = self.style_layers or networks.RANDOM_STYLE_LAYERS
            what = (
                "a random-weight multi-scale shallow conv net (untrained; random filters "
                "carry texture, Ustyuzhaninov et al. 2016)"
            )
        else:
            convs = find_layers(model, ("conv",))
            content = self.content_layer or convs[-1]
            style = self.style_layers or tuple(convs)
            what = f"this run's own model {model.name!r}"
        return model, content, style, own_network(self.network, IMAGENET, what)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        # A network that cannot take these pictures' sizes or a missing layer fails now, not
        # after the training.
        if self.model.built:
            network, content_layer, style_layers, _ = self._features()
            any_size_extractor(network, [content_layer, *style_layers])

    def capture(self, tag: str, epoch: int, step: int) -> None:
        network, content_layer, style_layers, note = self._features()
        self._note = (
            f"Style transfer network: {note}; content layer {content_layer}, style layers "
            f"{', '.join(style_layers)}"
        )
        channels = input_channels(network)
        content = match_channels(self.content[None], channels)[0]
        style = match_channels(self.style[None], channels)[0]

        def progress(done: int, steps: int, loss: float) -> None:
            if self.verbose:
                logger.info("StyleTransfer: step %d/%d, loss %.4g", done, steps, loss)

        result = style_transfer(
            network,
            content,
            style,
            content_layer=content_layer,
            style_layers=style_layers,
            **dataclasses.asdict(self.settings),
            progress=progress,
        )
        title = f"style transfer, {tag}: {network.name}"
        columns = {"content": content[None], "style": style[None], "result": result.image[None]}
        atomic.write_figure(self.path(f"style_transfer_{tag}.png"), image_columns(columns, title))
        atomic.write_figure(self.path(f"loss_{tag}.png"), loss_curves(result.losses, title))
        atomic.write_npz(
            self.path(f"style_transfer_{tag}.npz"),
            {
                "content": content,
                "style": style,
                "result": result.image,
                **{f"loss_{name}": values for name, values in result.losses.items()},
            },
        )
        if self.verbose:
            logger.info("StyleTransfer: %s in %s", tag, self.out_dir)

    def run_notes(self) -> list[str]:
        """Which network gave the features, in a sentence (console, run.json, report)."""
        return [self._note] if self._note else []


def _picture(name: str, image: Any) -> np.ndarray:
    x = np.asarray(image, np.float32)
    x = x[0] if x.ndim == 4 and len(x) == 1 else x
    if x.ndim != 3 or x.shape[-1] not in (1, 3):
        raise ValueError(f"{name} must be one (H, W, 1|3) picture in [0, 1]. Received: {x.shape}")
    return x
