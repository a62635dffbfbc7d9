"""StyleTransfer: one picture's content painted in another's style (seed document 001)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from convwatch.base import atomic
from convwatch.base.ranges import NonNegativeFloat, PositiveFloat, PositiveInt, validate_ranges
from convwatch.callbacks.capture import Every, TrainEndCapture
from convwatch.callbacks.image_networks import (
    check_network,
    input_channels,
    match_channels,
    own_network,
    use_imagenet,
)

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
            `techniques.style_transfer`.
        every_n_epochs: also run every this many epochs; None (default): at train end only.
        verbose: 1 prints progress. Defaults to 0.

    Example:
        >>> cb = StyleTransfer(photo, painting, network="imagenet")  # doctest: +SKIP
    """

    @validate_ranges
    def __init__(
        self,
        content: Any,
        style: Any,
        out_dir: str | os.PathLike[str] = "style_transfer",
        network: str = "model",
        content_layer: str | None = None,
        style_layers: Sequence[str] | None = None,
        steps: PositiveInt = 300,
        learning_rate: PositiveFloat = 0.02,
        content_weight: NonNegativeFloat = 1.0,
        style_weight: NonNegativeFloat = 1.0,
        tv_weight: NonNegativeFloat = 1.0,
        init: str = "content",
        every_n_epochs: Every = None,
        verbose: int = 0,
    ):
        super().__init__(out_dir, every_n_epochs, verbose)
        self.content, self.style = _picture("content", content), _picture("style", style)
        from convwatch.techniques.style_transfer import check_style_settings

        # now, not after training
        check_style_settings(steps, learning_rate, content_weight, style_weight, tv_weight, init)
        self.network = check_network(network, IMAGENET)
        self.content_layer = content_layer
        self.style_layers = tuple(style_layers) if style_layers else None
        self.steps, self.learning_rate = steps, learning_rate
        self.weights = {"content": content_weight, "style": style_weight, "tv": tv_weight}
        self.init = init
        self._imagenet: Any = None
        self._note: str | None = None

    def _features(self) -> tuple[Any, str, Sequence[str], str]:
        """The network, its content layer, its style layers, and a sentence saying which."""
        from convwatch.techniques import backbones as networks

        if use_imagenet(self.network, IMAGENET):
            if self._imagenet is None:
                self._imagenet = networks.imagenet_network(IMAGENET)
            content = self.content_layer or networks.VGG19_CONTENT_LAYER
            style = self.style_layers or networks.VGG19_STYLE_LAYERS
            weights = networks.imagenet_weights_path(IMAGENET)
            return self._imagenet, content, style, f"VGG19 with ImageNet weights ({weights})"
        from convwatch.techniques.layers import find_layers

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
            from convwatch.techniques.any_size import feature_extractor

            network, content_layer, style_layers, _ = self._features()
            feature_extractor(network, [content_layer, *style_layers])

    def capture(self, tag: str, epoch: int, step: int) -> None:
        from convwatch.plots.optimized_images import image_columns, loss_curves
        from convwatch.techniques.style_transfer import style_transfer

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
                print(f"StyleTransfer: step {done}/{steps}, loss {loss:.4g}", flush=True)

        result = style_transfer(
            network,
            content,
            style,
            content_layer=content_layer,
            style_layers=style_layers,
            steps=self.steps,
            learning_rate=self.learning_rate,
            content_weight=self.weights["content"],
            style_weight=self.weights["style"],
            tv_weight=self.weights["tv"],
            init=self.init,
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
            print(f"StyleTransfer: {tag} in {self.out_dir}")

    def run_notes(self) -> list[str]:
        """Which network gave the features, in a sentence (console, run.json, report)."""
        return [self._note] if self._note else []


def _picture(name: str, image: Any) -> np.ndarray:
    x = np.asarray(image, np.float32)
    x = x[0] if x.ndim == 4 and len(x) == 1 else x
    if x.ndim != 3 or x.shape[-1] not in (1, 3):
        raise ValueError(f"{name} must be one (H, W, 1|3) picture in [0, 1]. Received: {x.shape}")
    return x
