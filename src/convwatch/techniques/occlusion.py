"""Occlusion maps (Zeiler & Fergus, 2013): how much hiding each patch costs the class.

A `patch x patch` square of `fill` slides over the image with step `stride`; each position's
patched copy is predicted, and the drop in the class probability is spread over the pixels the
patch covered (each pixel gets the mean drop of the patches that covered it). The patched copies
are made and predicted inside one compiled graph, many images and positions per call, never one
predict call per position.

What the patch paints matters as much as where it goes: a grey square on a black background
adds a shape the model never saw there, and that can move the prediction more than hiding part
of the object. A patch of the background's own value (`background_value`) hides only what is
in front of the background, so on the background itself it changes nothing.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from convwatch.techniques import autodiff
from convwatch.techniques.class_score import check_inputs, class_scores, compiled, first_output


def patch_masks(height: int, width: int, patch: int, stride: int) -> np.ndarray:
    """float32 `(P, H, W)`: 1 inside the patch at each position, row by row."""
    if not (1 <= patch <= min(height, width)) or stride < 1:
        raise ValueError(
            f"patch must be in 1..{min(height, width)} and stride >= 1. "
            f"Received: patch={patch}, stride={stride}"
        )
    tops = range(0, height - patch + 1, stride)
    lefts = range(0, width - patch + 1, stride)
    masks = np.zeros((len(tops) * len(lefts), height, width), np.float32)
    for i, (top, left) in enumerate((t, s) for t in tops for s in lefts):
        masks[i, top : top + patch, left : left + patch] = 1.0
    return masks


def background_value(images) -> float:
    """The most common value of the images' border pixels: the background, where there is one.

    Args:
        images: `(N, H, W)` or `(N, H, W, C)`, any range; every image's one-pixel border
            (all channels) is counted together.

    Returns:
        That value as a float (the smallest of equally common ones).
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim not in (3, 4) or len(x) == 0 or min(x.shape[1:3]) < 1:
        raise ValueError(f"`images` must be (N, H, W[, C]) with N >= 1. Received: {x.shape}")
    border = np.concatenate(
        [x[:, 0].ravel(), x[:, -1].ravel(), x[:, :, 0].ravel(), x[:, :, -1].ravel()]
    )
    values, counts = np.unique(border, return_counts=True)
    return float(values[counts.argmax()])


def occlusion_map(
    model,
    images,
    classes=None,
    patch: int = 4,
    stride: int = 1,
    fill: float = 0.0,
    batch_size: int = 1024,
) -> np.ndarray:
    """Drop of each image's class probability when the patch covers each pixel.

    Args:
        model: a Keras 3 classifier (Sequential, functional, nested; built or not).
        images: `(N, H, W, C)` floats, as the model takes them.
        classes: `(N,)` true class per image; None uses the predicted class. Defaults to None.
        patch: side of the square patch, in pixels. Defaults to 4.
        stride: step between patch positions. Defaults to 1.
        fill: the value the patch paints, in the units the model takes (0.5: mid-grey of
            [0, 1] images; `background_value(images)`: the background's). Defaults to 0.0.
        batch_size: at most this many patched copies per model call (whole images at a time,
            at least one image). Defaults to 1024.

    Returns:
        float32 `(N, H, W)`, signed: the class's probability on the clean image minus on the
        patched one, so positive where hiding the pixel lowers the probability, negative where
        it raises it; 0 for pixels no patch position covers.
    """
    x, c = check_inputs("occlusion_map", model, images, classes)
    if not np.isfinite(fill):
        raise ValueError(f"fill must be a finite number. Received: fill={fill}")
    masks = patch_masks(x.shape[1], x.shape[2], int(patch), int(stride))
    run = compiled(model, ("occlusion",), lambda: _occlude(model))
    per_call = max(1, batch_size // len(masks))
    maps = [
        run(x[i : i + per_call], c[i : i + per_call], masks, np.float32(fill))
        for i in range(0, len(x), per_call)
    ]
    return np.concatenate(maps)


def _occlude(model):
    def occlude(images, classes, masks, fill):
        height, width = images.shape[1:3]
        p = ops.shape(masks)[0]
        clean, classes = class_scores(first_output(model(images, training=False)), classes)
        cover = masks[None, :, :, :, None]  # (1, P, H, W, 1)
        patched = images[:, None] * (1.0 - cover) + fill * cover  # (n, P, H, W, C)
        patched = ops.reshape(patched, (-1, *images.shape[1:]))
        scores, _ = class_scores(
            first_output(model(patched, training=False)), ops.repeat(classes, p)
        )
        drops = clean[:, None] - ops.reshape(scores, (-1, p))  # (n, P)
        flat = ops.reshape(masks, (p, -1))
        total = ops.matmul(drops, flat)  # each pixel: the sum of the drops of patches over it
        count = ops.sum(flat, axis=0)
        heat = ops.divide_no_nan(total, count[None])
        return ops.reshape(heat, (-1, height, width))

    return autodiff.compile_function(occlude, [model])
