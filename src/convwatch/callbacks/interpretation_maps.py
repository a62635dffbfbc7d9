"""Each interpretation technique's maps for the Interpretation callback, and the words for them.

One function per figure: it runs the technique (`convwatch.techniques`) for the images and their
true classes and says, column by column, what the maps are and what their colour measures, in
the terms of the model's output (`score`: "p" for probabilities, "score" for logits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convwatch import techniques as t
from convwatch.plots.interpretation import MapColumn

TECHNIQUES = ("saliency", "smoothgrad", "occlusion", "grad_cam", "guided_backprop")


@dataclass(frozen=True)
class Settings:
    """The techniques' settings, as the callback was given them (see `Interpretation`)."""

    layer: str | None
    patch: int
    stride: int
    fill: float  # the first occlusion patch's value (mid-grey unless set)
    background: float  # the second one's: the data's background value
    smooth_samples: int


def reading(technique: str, s: Settings, score: str = "p") -> str:
    """One line on how to read `technique`'s figure, for its title."""
    true = f"{score}(true)"
    return {
        "saliency": f"Saliency: how much each pixel moves {true}, the true class's output",
        "smoothgrad": f"SmoothGrad: saliency of {true} averaged over {s.smooth_samples} noisy "
        "copies of the image",
        "occlusion": f"Occlusion: red where hiding a {s.patch}x{s.patch} patch lowers {true}, "
        "blue where it raises it; black line: the object's outline",
        "grad_cam": "Grad-CAM: where the conv layer's maps hold evidence for the true class",
        "guided_backprop": f"Guided backprop: the gradient of {true} through ReLUs that pass "
        "only positive gradients; red: a brighter pixel there raises it, blue: lowers it",
    }[technique]


def technique_maps(
    model, technique: str, images: np.ndarray, labels: np.ndarray, s: Settings, score: str = "p"
) -> tuple[dict[str, np.ndarray], list[MapColumn]]:
    """`technique`'s maps of `images` for the classes `labels`: the arrays to save (by NPZ key)
    and the figure's columns."""
    true = f"{score}(true)"
    if technique in ("saliency", "smoothgrad"):
        samples = s.smooth_samples if technique == "smoothgrad" else 0
        maps = t.saliency_map(model, images, labels, smooth_samples=samples)
        title = f"SmoothGrad ({samples} noisy copies)" if samples else "saliency"
        measure = f"|mean gradient| of {true} over copies" if samples else f"|gradient| of {true}"
        empty = f"no pixel moves\n{true}: gradient 0"
        return {technique: maps}, [MapColumn(maps, title, measure, overlay=True, empty=empty)]
    if technique == "grad_cam":
        layer = s.layer or (t.find_layers(model, ("conv",)) or [None])[-1]
        maps = t.grad_cam(model, images, labels, layer=layer)
        column = MapColumn(
            maps, f"Grad-CAM of {layer}", "Grad-CAM, 1 = the row's peak", overlay=True,
            empty="no positive evidence\nfor this class",
        )  # fmt: skip
        return {technique: maps}, [column]
    if technique == "guided_backprop":
        maps = t.guided_backprop(model, images, labels)
        column = MapColumn(
            maps, "guided backprop", f"guided gradient of {true}", diverging=True,
            empty="no positive path\nto this class", clip=99.0,
        )  # fmt: skip
        return {technique: maps}, [column]
    if technique != "occlusion":
        raise ValueError(f"technique must be among {TECHNIQUES}. Received: {technique!r}")
    return _occlusion(model, images, labels, s, true)


def _occlusion(model, images, labels, s: Settings, true: str):
    """The grey patch and, beside it, a patch of the background value, on one signed scale."""

    def column(maps: np.ndarray, title: str) -> MapColumn:
        measure, empty = f"drop in {true} when hidden", f"no patch changes\n{true}"
        return MapColumn(maps, title, measure, diverging=True, outline=True, empty=empty)

    size = f"{s.patch}x{s.patch}"
    grey = t.occlusion_map(model, images, labels, s.patch, s.stride, s.fill)
    arrays = {"occlusion": grey, "occlusion_fills": np.array([s.fill, s.background], np.float32)}
    if s.background == s.fill:  # the one patch is the background's value: one column says so
        arrays["occlusion_background"] = grey
        return arrays, [column(grey, f"{size} patch of the background value {s.fill:.3g}")]
    background = t.occlusion_map(model, images, labels, s.patch, s.stride, s.background)
    arrays["occlusion_background"] = background
    return arrays, [
        column(grey, f"{size} grey patch ({s.fill:.3g})"),
        column(background, f"{size} background patch ({s.background:.3g})"),
    ]
