"""Which network an image-optimising callback (DeepDream, StyleTransfer) stands on, and how a
photo is fitted to its input channels. The choice is said in words, so a fallback is never
passed off as the ImageNet result."""

from __future__ import annotations

from typing import Any

import numpy as np

from convwatch.base.keras_cache import keras_cache_dir
from convwatch.techniques.backbones import (
    IMAGENET_WEIGHTS,
    imagenet_weights_path,
    missing_weights_error,
)

NETWORK_CHOICES = ("model", "imagenet", "auto")


def check_network(network: str, name: str) -> str:
    """`network` if valid; "imagenet" also needs the ImageNet `name` weights in the Keras cache,
    checked here so a run fails before training rather than after it."""
    if network not in NETWORK_CHOICES:
        raise ValueError(
            f"network must be one of {', '.join(NETWORK_CHOICES)} (model: the model being "
            "trained; imagenet: the ImageNet network from the Keras cache; auto: imagenet when "
            f"cached, else the model). Received: network={network!r}"
        )
    if network == "imagenet" and imagenet_weights_path(name) is None:
        raise missing_weights_error(name)
    return network


def use_imagenet(network: str, name: str) -> bool:
    """True when `network` asks for the ImageNet `name` and, for "auto", its weights are cached."""
    if network == "imagenet":
        return True
    return network == "auto" and imagenet_weights_path(name) is not None


def own_network(network: str, name: str, what: str) -> str:
    """Says that `what` (the run's own model) stands in for the ImageNet `name`, and why."""
    if network != "auto":
        return f"{what} (network=model; not an ImageNet network)"
    file = IMAGENET_WEIGHTS[name][1]
    return (
        f"FALLBACK, not an ImageNet network ({file} is not in the Keras cache "
        f"{keras_cache_dir('models')}; nothing is downloaded): {what}"
    )


def match_channels(images: Any, channels: int) -> np.ndarray:
    """`(N, H, W, 1|3)` images with `channels` channels: RGB to luminance, gray repeated."""
    x = np.asarray(images, np.float32)
    if x.shape[-1] == channels:
        return x
    if x.shape[-1] == 3 and channels == 1:
        return (x @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    if x.shape[-1] == 1:
        return np.repeat(x, channels, axis=-1)
    raise ValueError(f"cannot fit {x.shape[-1]}-channel images to a {channels}-channel input")


def input_channels(model: Any) -> int:
    shape = model.inputs[0].shape if getattr(model, "inputs", None) else model.input_shape
    return int(shape[-1])
