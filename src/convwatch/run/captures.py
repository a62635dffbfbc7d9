"""Builds the capture callbacks an experiment declares by name, with the run's data and folder.

An experiment's `callbacks` maps a callback name to its options (the callback's own arguments,
plus the data choices below); the runner hands each one the probe images it needs and the run
folder's `artifacts/<name>/` directory. Options are checked against the callback's signature,
and numbers against the ranges it declares (`convwatch.base.ranges`), before any folder is made.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

from convwatch.base.ranges import PositiveInt, Range, declared, describe, problem
from convwatch.data.sample_photo import PhotoSize
from convwatch.errors import ConvwatchError


def _activation_capture(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.activation_capture import ActivationCapture

    probe = arrays.x_test[: options.pop("probe_size", 8)]
    return ActivationCapture(probe, out_dir=out_dir, **options)


def _filter_evolution(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.filter_evolution import FilterEvolution

    return FilterEvolution(out_dir=out_dir, probe=arrays.x_test[:1], **options)


def _filter_maximization(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.filter_maximization import FilterMaximization

    # The probe set exemplars and dead filters are found in: the first `probe_size` training
    # images (2,000: every filter's top 9 from a few hundred images per class).
    probe = arrays.x_train[: options.pop("probe_size", 2000)]
    return FilterMaximization(probe, out_dir=out_dir, **options)


def _embedding_projector(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.embedding_projector import EmbeddingProjector

    size = options.pop("size", 1000)
    return EmbeddingProjector(
        arrays.x_test[:size],
        arrays.labels_test[:size],
        out_dir=out_dir,
        class_names=dataset.class_names or None,
        **options,
    )


def _classification_report(
    options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path
) -> Any:
    from convwatch.callbacks.classification_report import ClassificationReport

    size = options.pop("size", None)  # None: the whole test set
    return ClassificationReport(
        arrays.x_test[:size],
        arrays.labels_test[:size],
        class_names=dataset.class_names or None,
        out_dir=out_dir,
        **options,
    )


def _target_image(arrays: Any) -> Any:
    """The first test target when targets are images (a reconstruction), else None."""
    targets = arrays.y_test[0] if isinstance(arrays.y_test, tuple | list) else arrays.y_test
    return targets[0] if getattr(targets, "ndim", 0) == 4 else None


def _pixel_tracker(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.pixel_tracker import PixelTracker

    pixels = dict(options.pop("pixels", {}))
    for circle in options.pop("circles", ()):  # shapes data: the centre of each named circle
        if dataset.name != "shapes":
            raise ConvwatchError(
                f"callbacks.PixelTracker.circles needs shapes data, not {dataset.name}"
            )
        from convwatch.data.shapes import shape_centres

        pixels[f"{circle}_centre"] = shape_centres(dataset.x_train.shape[1])[circle]
    options.setdefault("target", _target_image(arrays))
    return PixelTracker(arrays.x_test[:1], pixels, out_dir=out_dir, **options)


def _output_evolution(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.output_evolution import OutputEvolution

    options.setdefault("target", _target_image(arrays))
    return OutputEvolution(arrays.x_test[:1], out_dir=out_dir, **options)


def _weight_range(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.weight_range import WeightRange

    return WeightRange(out_dir=out_dir, **options)


def _interpretation(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.interpretation import Interpretation

    size = options.pop("size", 6)  # the first `size` test images, one row each
    return Interpretation(
        arrays.x_test[:size],
        arrays.labels_test[:size],
        out_dir=out_dir,
        class_names=dataset.class_names or None,
        **options,
    )


def _partial_outputs(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.partial_outputs import PartialOutputs

    return PartialOutputs(arrays.x_test[:1], out_dir=out_dir, **options)


def _layer_shapes(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.layer_shapes import LayerShapes

    return LayerShapes(out_dir=out_dir, **options)


def _deep_dream(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.deep_dream import DeepDream
    from convwatch.data import photo_image

    # The photo dreamed on: a scikit-learn sample photo by name, or an image file's path.
    photo = photo_image(options.pop("photo", "china"), size=options.pop("size", 192))
    return DeepDream(photo, out_dir=out_dir, **options)


def _style_transfer(options: dict[str, Any], arrays: Any, dataset: Any, out_dir: Path) -> Any:
    from convwatch.callbacks.style_transfer import StyleTransfer
    from convwatch.data import photo_image

    # Content: the run's first test image (a photo, with sample_photo data); style: a sample
    # photo by name or an image file, as large as the content unless `style_size` says.
    content = arrays.x_test[0]
    size = options.pop("style_size", None) or max(content.shape[:2])
    style = photo_image(options.pop("style", "flower"), size=size)
    return StyleTransfer(content, style, out_dir=out_dir, **options)


# name -> (factory(options, arrays, dataset, out_dir), callback class path, extra options: the
# factory's own, not the callback's, each with its type and range like a parameter's)
FACTORIES: dict[str, tuple[Callable[..., Any], str, Mapping[str, Any]]] = {
    "ActivationCapture": (_activation_capture, "activation_capture", {"probe_size": PositiveInt}),
    "FilterEvolution": (_filter_evolution, "filter_evolution", {}),
    "FilterMaximization": (
        _filter_maximization,
        "filter_maximization",
        {"probe_size": PositiveInt},
    ),
    # at least 3 examples to embed (EmbeddingProjector's own minimum)
    "EmbeddingProjector": (
        _embedding_projector,
        "embedding_projector",
        {"size": Annotated[int, Range(3)]},
    ),
    "ClassificationReport": (
        _classification_report,
        "classification_report",
        {"size": PositiveInt | None},
    ),
    "PixelTracker": (_pixel_tracker, "pixel_tracker", {"circles": tuple[str, ...]}),
    "OutputEvolution": (_output_evolution, "output_evolution", {}),
    "WeightRange": (_weight_range, "weight_range", {}),
    "Interpretation": (_interpretation, "interpretation", {"size": PositiveInt}),
    "PartialOutputs": (_partial_outputs, "partial_outputs", {}),
    "LayerShapes": (_layer_shapes, "layer_shapes", {}),
    "DeepDream": (_deep_dream, "deep_dream", {"photo": str, "size": PhotoSize}),
    "StyleTransfer": (_style_transfer, "style_transfer", {"style_size": PhotoSize}),
}
_SUPPLIED = {"out_dir", "probe", "data", "labels", "class_names", "self"}
_SUPPLIED |= {"images", "content"}  # Interpretation, DeepDream, StyleTransfer: from the data


def _callback_class(name: str) -> type:
    import importlib

    return getattr(importlib.import_module(f"convwatch.callbacks.{FACTORIES[name][1]}"), name)


def _valid_options(name: str) -> list[str]:
    params = inspect.signature(_callback_class(name).__init__).parameters
    return sorted((set(params) - _SUPPLIED) | set(FACTORIES[name][2]))


def option_ranges(name: str) -> dict[str, Any]:
    """The options of callback `name` that declare a Range: option -> annotation."""
    extra = {k: v for k, v in FACTORIES[name][2].items() if describe(v) is not None}
    return {**declared(_callback_class(name).__init__), **extra}


def check_callbacks(specs: Mapping[str, Mapping[str, Any]]) -> None:
    """Raise ConvwatchError for an unknown callback name or option, or a number outside the
    range its option declares (naming `callbacks.<Name>.<option>`, the value, what is valid)."""
    for name, options in specs.items():
        if name not in FACTORIES:
            raise ConvwatchError(
                f"unknown callback {name!r}; available: {', '.join(sorted(FACTORIES))}"
            )
        valid = _valid_options(name)
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise ConvwatchError(
                f"callbacks.{name} has no option {unknown[0]!r}; valid: {', '.join(valid)}"
            )
        if name in _IMAGE_OPTIMISERS:
            _check_image_optimiser(name, options)
        ranges = option_ranges(name)
        for option, value in options.items():
            wanted = problem(ranges[option], value) if option in ranges else None
            if wanted:
                raise ConvwatchError(
                    f"callbacks.{name}.{option} must be {wanted}. Received: {value!r}"
                )


# Callbacks that optimise a picture: the options naming it and its size, the ImageNet network
# they want, and the technique's check of the settings it takes from the options.
_IMAGE_OPTIMISERS = {
    "DeepDream": ("photo", "size", "inception_v3", "deep_dream:check_dream_settings"),
    "StyleTransfer": ("style", "style_size", "vgg19", "style_transfer:check_style_settings"),
}


def _check_image_optimiser(name: str, options: Mapping[str, Any]) -> None:
    """The picture exists, the settings work and the network can be had, so a run never fails
    on them after its folder is made (or after its training)."""
    import importlib

    from convwatch.callbacks.image_networks import check_network
    from convwatch.data.sample_photo import check_photo, check_size
    from convwatch.errors import DataError

    picture, size, imagenet, checker = _IMAGE_OPTIMISERS[name]
    module, function = checker.split(":")
    check_settings = getattr(importlib.import_module(f"convwatch.techniques.{module}"), function)
    settings = inspect.signature(check_settings).parameters
    try:
        if picture in options:
            check_photo(options[picture])
        check_size(options.get(size), size)
        check_settings(**{k: v for k, v in options.items() if k in settings})
        check_network(options.get("network", "model"), imagenet)
    except (ValueError, DataError) as error:
        raise ConvwatchError(f"callbacks.{name}: {error}") from None


def build_callbacks(
    specs: Mapping[str, Mapping[str, Any]], arrays: Any, dataset: Any, folder: Any
) -> list[Any]:
    """The Keras callbacks `specs` declare, each writing under `folder.artifacts(name)`."""
    check_callbacks(specs)
    return [
        FACTORIES[name][0](dict(options), arrays, dataset, folder.artifacts(name))
        for name, options in specs.items()
    ]
