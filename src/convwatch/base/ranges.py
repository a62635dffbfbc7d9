"""Numeric ranges, declared where a parameter is declared, and the checks that read them.

A model builder, a callback or a data loader says what each numeric parameter accepts in its
signature, `dropout: Annotated[float, Range(0, 1, high_open=True)] = 0.2`, and that one
declaration is what everything checks against: the override parser, `runner.check` (before any
run folder exists, for declared values and overrides alike) and, through `@validate_ranges`,
the callbacks' own `__init__`, so a library user gets the same words: "`dropout` must be a
finite number in [0, 1). Received: dropout=1.5". A Range never holds NaN or +-inf.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import math
import numbers
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any


@dataclass(frozen=True)
class Range:
    """The finite numbers from `low` to `high` (None: unbounded), each end included unless open.

    `str(Range(0, 1, high_open=True))` is "in [0, 1)", `str(Range(0, low_open=True))` "> 0",
    `str(Range(1))` ">= 1", `str(Range())` "finite".
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: object) -> bool:
        if not _is_number(value, integer=False) or not _finite(value):
            return False
        low, high = self.low, self.high
        if low is not None and (value < low or (self.low_open and value == low)):
            return False
        return high is None or not (value > high or (self.high_open and value == high))

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            left = "(" if self.low_open else "["
            right = ")" if self.high_open else "]"
            return f"in {left}{self.low}, {self.high}{right}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {self.high}"
        return "finite"


# The common declarations, so signatures stay short (`steps: PositiveInt = 30`).
PositiveInt = Annotated[int, Range(1)]
NonNegativeInt = Annotated[int, Range(0)]
PositiveFloat = Annotated[float, Range(0, low_open=True)]
NonNegativeFloat = Annotated[float, Range(0)]
FiniteFloat = Annotated[float, Range()]
Seed = Annotated[int, Range(0, 2**32 - 1)]  # what keras.utils.set_random_seed and numpy take
PhotoSize = Annotated[int, Range(16)] | None  # a photo's long side in pixels; None: its own size


class PhotoName:
    """Marks an option naming a picture: a sample photo (`china`, `flower`) or an image file's
    path. The runner checks it exists before any run folder is made, and loads it for the
    capture (`RunInputs.photo`), so a capture never imports the data loaders."""

    def __repr__(self) -> str:
        return "PhotoName()"


Photo = Annotated[str, PhotoName()]


def _is_number(value: object, integer: bool) -> bool:
    kind = numbers.Integral if integer else numbers.Real
    return isinstance(value, kind) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return isinstance(value, numbers.Integral) or math.isfinite(value)


def _fits_float(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Number:
    range: Range
    integer: bool

    def accepts(self, value: object) -> bool:
        if not _is_number(value, self.integer):
            return False
        if not self.integer and not _fits_float(value):  # a 400-digit int is no float
            return False
        return value in self.range

    def __str__(self) -> str:
        kind = "an integer" if self.integer else "a finite number"
        return kind if str(self.range) == "finite" else f"{kind} {self.range}"


@dataclass(frozen=True)
class _Optional:
    inner: Any

    def accepts(self, value: object) -> bool:
        return value is None or self.inner.accepts(value)

    def __str__(self) -> str:
        return f"None or {self.inner}"


@dataclass(frozen=True)
class _Each:
    inner: Any

    def accepts(self, value: object) -> bool:
        if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__len__"):
            return False  # a list, tuple or array, not a string
        return all(self.inner.accepts(v) for v in value)  # type: ignore[attr-defined]

    def __str__(self) -> str:
        return f"a list or tuple, each item {self.inner}"


def _rule(annotation: Any, found: Range | None = None) -> Any:
    """The rule `annotation` declares (a number in a Range, maybe optional, maybe for each item
    of a `tuple[X, ...]` or `Sequence[X]`), or None where it declares no Range."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        declared = [m for m in annotation.__metadata__ if isinstance(m, Range)]
        return _rule(annotation.__origin__, declared[0] if declared else found)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        rule = _rule(inner[0], found) if len(inner) == 1 else None
        return _Optional(rule) if rule is not None and type(None) in args else rule
    tuple_of = origin is tuple and len(args) == 2 and args[1] is Ellipsis
    if tuple_of or (origin in (list, collections.abc.Sequence) and len(args) == 1):
        rule = _rule(args[0], found)
        return _Each(rule) if rule is not None else None
    if found is not None and annotation in (int, float):
        return _Number(found, integer=annotation is int)
    return None


def describe(annotation: Any) -> str | None:
    """What `annotation` accepts, in words ("a finite number in [0, 1)"); None if it declares
    no Range."""
    rule = _rule(annotation)
    return None if rule is None else str(rule)


def problem(annotation: Any, value: object) -> str | None:
    """What `value` should be, in words, when `annotation` declares a Range it is outside of;
    None when the value fits (or nothing is declared)."""
    rule = _rule(annotation)
    return None if rule is None or rule.accepts(value) else str(rule)


@functools.cache
def declared(function: Callable[..., Any]) -> Mapping[str, Any]:
    """The parameters of `function` that declare a Range: name -> annotation (with extras)."""
    function = inspect.unwrap(function)
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except (NameError, TypeError):  # an annotation that cannot be resolved declares nothing
        return {}
    return types.MappingProxyType(
        {name: hint for name, hint in hints.items() if _rule(hint) is not None}
    )


def check_arguments(function: Callable[..., Any], arguments: Mapping[str, Any]) -> None:
    """ValueError, Keras-style, for the first of `arguments` outside its declared Range."""
    for name, annotation in declared(function).items():
        if name in arguments and (wanted := problem(annotation, arguments[name])):
            raise ValueError(f"`{name}` must be {wanted}. Received: {name}={arguments[name]!r}")


def validate_ranges(function: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a function (an `__init__`) so each call first checks its declared ranges."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            arguments = signature.bind(*args, **kwargs).arguments
        except TypeError:  # a wrong call: the function's own TypeError says so
            return function(*args, **kwargs)
        check_arguments(function, arguments)
        return function(*args, **kwargs)

    return checked


def pixel_range(value_range: Any) -> tuple[float, float]:
    """`(low, high)` as floats: the range an optimised image's pixels are kept in. A ValueError
    unless it is two numbers with low < high."""
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"`value_range` must be two numbers (low, high). Received: {value_range!r}"
        ) from None
    if not low < high:
        raise ValueError(
            f"`value_range` must be (low, high) with low < high. Received: {value_range!r}"
        )
    return low, high


def non_finite(value: Any, key: str = "") -> Iterator[tuple[str, float]]:
    """Every NaN or +-inf in nested mappings and sequences, with its dotted key."""
    if isinstance(value, Mapping):
        for name, inner in value.items():
            yield from non_finite(inner, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            yield from non_finite(inner, f"{key}[{index}]")
    elif _is_number(value, integer=False) and not _finite(value):
        yield key, value
