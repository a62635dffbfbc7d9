"""Builds the capture callbacks an experiment declares by name, with the run's data and folder.

An experiment's `callbacks` maps a capture's class name to its options. The names are the
classes `convwatch.callbacks.registered()` finds: every `Capture` subclass that declares a
`group`, wherever it is defined, so a new capture needs no entry here. Its options are its
constructor's parameters (less those the run supplies, `cls.supplied`) plus `cls.run_options`,
which the capture's `from_run` consumes. All of them are checked before any run folder is made:
unknown names, pictures that do not exist, the capture's own `check_options`, and numbers against
the ranges they declare (`convwatch.base.ranges`). Each capture is then made by `from_run` with a
`RunInputs`: the prepared data, its `artifacts/<Name>/` folder, the dataset's landmarks and a
photo loader.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any

from convwatch.base.ranges import PhotoName, PhotoSize, declared, describe, problem
from convwatch.callbacks import Capture, RunInputs, registered
from convwatch.data import photo_image
from convwatch.data.sample_photo import check_photo, check_size
from convwatch.data.shapes import shape_centres
from convwatch.errors import ConvwatchError, DataError

# The runner's own figure (`artifacts/curves/curves.png`), described as a capture describes its
# files, so the run page shows it first, from the same record.
CURVES_GROUP = "curves"
CURVES_DESCRIPTION: dict[str, Any] = {
    "group": "Training curves drawn by the runner from history.csv.",
    "files": [["curves\\.png", "Loss and accuracy per epoch, training and validation."]],
}


def capture_class(name: str) -> type[Capture]:
    """The registered Capture class `name`, or a ConvwatchError listing the available ones."""
    classes = registered()
    if name not in classes:
        raise ConvwatchError(f"unknown callback {name!r}; available: {', '.join(sorted(classes))}")
    return classes[name]


def option_annotations(cls: type[Capture]) -> dict[str, Any]:
    """Every option an experiment may give `cls`: name -> annotation (`Any` where none).

    The constructor's named parameters, less `self` and what the run supplies (`cls.supplied`),
    plus `cls.run_options` (the options `from_run` consumes itself).
    """
    init = inspect.unwrap(cls.__init__)
    try:
        hints = typing.get_type_hints(init, include_extras=True)
    except (NameError, TypeError):  # an annotation that cannot be resolved: no type known
        hints = {}
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    parameters = [
        name
        for name, parameter in inspect.signature(init).parameters.items()
        if parameter.kind in named and name != "self" and name not in cls.supplied
    ]
    return {**{name: hints.get(name, Any) for name in parameters}, **cls.run_options}


def option_ranges(name: str) -> dict[str, Any]:
    """The options of capture `name` that declare a Range: option -> annotation."""
    cls = capture_class(name)
    extra = {k: v for k, v in cls.run_options.items() if describe(v) is not None}
    return {**declared(cls.__init__), **extra}


def check_callbacks(specs: Mapping[str, Mapping[str, Any]]) -> None:
    """Raise ConvwatchError for an unknown callback name or option, a picture that cannot be
    had, settings the capture refuses, or a number outside the range its option declares (naming
    `callbacks.<Name>.<option>`, the value, what is valid)."""
    for name, options in specs.items():
        cls = capture_class(name)
        annotations = option_annotations(cls)
        unknown = sorted(set(options) - set(annotations))
        if unknown:
            raise ConvwatchError(
                f"callbacks.{name} has no option {unknown[0]!r}; "
                f"valid: {', '.join(sorted(annotations))}"
            )
        _check_settings(name, cls, annotations, options)
        ranges = option_ranges(name)
        for option, value in options.items():
            wanted = problem(ranges[option], value) if option in ranges else None
            if wanted:
                raise ConvwatchError(
                    f"callbacks.{name}.{option} must be {wanted}. Received: {value!r}"
                )


def _check_settings(
    name: str, cls: type[Capture], annotations: Mapping[str, Any], options: Mapping[str, Any]
) -> None:
    """The pictures named exist and are images, their sizes are whole numbers >= 16, and the
    capture's own `check_options` passes, so a run never fails on them after its folder is made
    (or after its training)."""
    try:
        cls.check_backend()
    except RuntimeError as error:
        raise ConvwatchError(f"callbacks.{name}: {error}") from None
    try:
        for option, value in options.items():
            if _names_photo(annotations[option]):
                check_photo(value)
            elif annotations[option] == PhotoSize:
                check_size(value, option)
        cls.check_options(options)
    except (ValueError, DataError) as error:
        raise ConvwatchError(f"callbacks.{name}: {error}") from None


def _names_photo(annotation: Any) -> bool:
    """Whether `annotation` is `base.ranges.Photo` (maybe `| None`): an option naming a picture."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return any(isinstance(mark, PhotoName) for mark in annotation.__metadata__)
    if origin in (typing.Union, types.UnionType):
        return any(_names_photo(arg) for arg in typing.get_args(annotation))
    return False


def run_inputs(arrays: Any, dataset: Any, out_dir: Any) -> RunInputs:
    """What the run offers one capture: the prepared `arrays` (`run.prepare.Arrays`, targets as
    fit sees them), facts about `dataset`, and `out_dir`, the capture's artifacts folder."""
    size = dataset.x_train.shape[1]
    return RunInputs(
        out_dir=out_dir,
        x_train=arrays.x_train,
        x_test=arrays.x_test,
        labels_test=arrays.labels_test,
        y_test=arrays.y_test,
        class_names=list(dataset.class_names) or None,
        dataset=dataset.name,
        landmarks=shape_centres(size) if dataset.name == "shapes" else {},
        photo=photo_image,
    )


def build_callbacks(
    specs: Mapping[str, Mapping[str, Any]], arrays: Any, dataset: Any, folder: Any
) -> list[Capture]:
    """The captures `specs` declare, in order, each writing under `folder.artifacts(name)`."""
    check_callbacks(specs)
    return [_build(name, dict(options), arrays, dataset, folder) for name, options in specs.items()]


def _build(name: str, options: dict[str, Any], arrays: Any, dataset: Any, folder: Any) -> Capture:
    """One capture by its `from_run`; what it refuses in this run's data (a landmark the dataset
    lacks, labels a regression has not) is bad input, named after the capture."""
    try:
        return capture_class(name).from_run(
            run_inputs(arrays, dataset, folder.artifacts(name)), **options
        )
    except ValueError as error:
        raise ConvwatchError(f"callbacks.{name}: {error}") from None


def captures_record(specs: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """run.json's `captures`: the runner's curves first, then each declared capture's
    `describe()`, in the order the run page shows them."""
    return {
        CURVES_GROUP: CURVES_DESCRIPTION,
        **{name: capture_class(name).describe() for name in specs},
    }
