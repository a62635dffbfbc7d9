"""`load_dataset`: the one entry point, mapping a dataset name to its loader.

It checks names and options up front (DataError listing the valid ones, or naming the range a
loader declares for a number, `convwatch.base.ranges`) and applies the stratified
`limit`/`test_limit` to the classifier datasets after loading.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from convwatch.base.ranges import declared, problem
from convwatch.data import fashion_mnist, mnist, sample_photo, shapes
from convwatch.data.dataset import Dataset
from convwatch.data.subset import apply_limits
from convwatch.errors import DataError

# name -> (loader, the options it accepts)
LOADERS: dict[str, tuple[Callable[..., Dataset], tuple[str, ...]]] = {
    "fashion_mnist": (fashion_mnist.load, ()),
    "mnist": (mnist.load, ()),
    "shapes": (shapes.load, ("size", "variant", "target")),
    "sample_photo": (sample_photo.load, ("photo", "gray", "size", "square")),
}
DATASETS: tuple[str, ...] = tuple(LOADERS)


def check_dataset(name: str, options: Mapping[str, object]) -> None:
    """Raise DataError for an unknown dataset or loader option, or a number outside the range
    the loader declares for it, without loading anything."""
    if name not in LOADERS:
        raise DataError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    valid = LOADERS[name][1]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise DataError(
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"for dataset {name!r}; valid options: {', '.join(valid) or '(none)'}"
        )
    for option, annotation in declared(LOADERS[name][0]).items():
        wanted = problem(annotation, options[option]) if option in options else None
        if wanted:
            raise DataError(
                f"data.options.{option} must be {wanted} (dataset {name!r}). "
                f"Received: {options[option]!r}"
            )


def load_dataset(
    name: str,
    *,
    limit: int | None = None,
    test_limit: int | None = None,
    seed: int = 0,
    **options: object,
) -> Dataset:
    """Load dataset `name`; `limit`/`test_limit` take stratified subsets (ignored for shapes)."""
    check_dataset(name, options)
    data = LOADERS[name][0](**options)
    if name == "shapes":
        if limit is None and test_limit is None:
            return data
        note = "limit/test_limit ignored: shapes is a single image"
        return dataclasses.replace(data, notes=(*data.notes, note))
    return apply_limits(data, limit, test_limit, seed)
