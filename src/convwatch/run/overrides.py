"""`key=value` overrides: the dotted keys an experiment offers, and the copies they make of it.

Overrides from the command line use dotted keys (`fit.epochs=2`,
`compile.optimizer.learning_rate=0.01`) and are type-checked against the spec (its dataclass
fields and the model builder's signature); `key=a,b,c` asks for a sweep, one experiment per
value. Ranges are not checked here but where a value lands: the spec's `__post_init__`,
`check_dataset` or `check_callbacks`, so a declared value and an override are refused alike.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from convwatch.errors import ConvwatchError
from convwatch.run.spec import Experiment, model_parameters

_FIXED = {"name", "description", "build_model", "references", "sweep", "model_from"}
MODEL_FROM_KEY = "model"  # `model=PATH`: a trained model (run folder or .keras file) to load
_OPEN_MAPPINGS = {"options"}  # dicts that accept new keys (loader and optimizer options)


def override_keys(experiment: Experiment) -> list[str]:
    """Every dotted key an override may set, sorted."""
    keys: list[str] = []

    def walk(obj: Any, prefix: str) -> None:
        if dataclasses.is_dataclass(obj):
            for f in dataclasses.fields(obj):
                if prefix == "" and f.name in _FIXED:
                    continue
                walk(getattr(obj, f.name), f"{prefix}{f.name}.")
                if f.name in _OPEN_MAPPINGS:
                    keys.append(f"{prefix}{f.name}.<any>")
                if f.name == "callbacks":
                    keys.extend(f"callbacks.{name}.<option>" for name in getattr(obj, f.name))
        elif isinstance(obj, Mapping):
            for k, v in obj.items():
                walk(v, f"{prefix}{k}.")
        else:
            keys.append(prefix[:-1])

    walk(experiment, "")
    keys += [f"model.{k}" for k in model_parameters(experiment.build_model)]
    keys.append(MODEL_FROM_KEY)
    return sorted(set(keys))


def parse_override(text: str) -> tuple[str, list[str]]:
    """Split `key=v1,v2` into the key and its raw values (more than one value means a sweep)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConvwatchError(f"an override must look like key=value. Received: {text!r}")
    return key, _split_values(raw)


def _split_values(raw: str) -> list[str]:
    values, depth, current = [], 0, ""
    for ch in raw:
        depth += ch in "[(" and 1 or (-1 if ch in "])" else 0)
        if ch == "," and depth == 0:
            values.append(current)
            current = ""
        else:
            current += ch
    values.append(current)
    return [v.strip() for v in values]


def apply_overrides(experiment: Experiment, overrides: Sequence[str]) -> list[Experiment]:
    """Return the experiments these overrides ask for: one, or one per point of a sweep.

    Every value is parsed and checked before anything runs, so a typo fails fast. The
    experiment's declared `sweep` comes first, less the keys `overrides` set themselves.
    """
    parsed = [parse_override(o) for o in effective_overrides(experiment, overrides)]
    axes = [[(key, raw) for raw in raws] for key, raws in parsed]
    result = []
    for point in itertools.product(*axes) if axes else [()]:
        current = experiment
        # `model=PATH` first: it sets fit.epochs=0, which a `fit.epochs=N` beside it overrides
        for key, raw in sorted(point, key=lambda item: item[0] != MODEL_FROM_KEY):
            current = set_value(current, key, raw)
        result.append(dataclasses.replace(current, sweep=()) if current.sweep else current)
    return result


def effective_overrides(experiment: Experiment, overrides: Sequence[str]) -> list[str]:
    """The overrides a run applies: the declared `sweep` entries whose key `overrides` leaves
    alone, then `overrides`."""
    given = {parse_override(o)[0] for o in overrides}
    return [o for o in experiment.sweep if parse_override(o)[0] not in given] + list(overrides)


def set_value(experiment: Experiment, key: str, raw: str) -> Experiment:
    """A copy of `experiment` with the dotted `key` set from the string `raw`, type-checked."""
    parts = key.split(".")
    if key == MODEL_FROM_KEY:
        return _load_model_from(experiment, raw)
    if parts[0] in _FIXED or not parts[0]:
        raise _unknown_key(experiment, key)
    if parts[0] == "model":
        params = model_parameters(experiment.build_model)
        if len(parts) != 2 or parts[1] not in params:
            raise _unknown_key(experiment, key)
        value = _parse(raw, _annotation(experiment.build_model, parts[1]), params[parts[1]], key)
        return dataclasses.replace(experiment, model={**experiment.model, parts[1]: value})
    try:
        return _set(experiment, parts, raw, key)
    except KeyError:
        raise _unknown_key(experiment, key) from None


def _load_model_from(experiment: Experiment, raw: str) -> Experiment:
    """`model=PATH`: use the trained model at PATH as it is (fit.epochs=0); `model=none` builds."""
    if raw.lower() in ("", "none", "null"):
        return dataclasses.replace(experiment, model_from=None)
    fit = dataclasses.replace(experiment.fit, epochs=0)
    return dataclasses.replace(experiment, model_from=raw, fit=fit)


def _set(
    obj: Any,
    parts: list[str],
    raw: str,
    key: str,
    open_map: bool = False,
    open_children: bool = False,
) -> Any:
    """A copy of `obj` (a spec dataclass or a mapping inside one) with `parts` set from `raw`;
    KeyError for a key it does not hold (`open_map`: a mapping that accepts new keys)."""
    head, rest = parts[0], parts[1:]
    if dataclasses.is_dataclass(obj):
        fields = {f.name: f for f in dataclasses.fields(obj)}
        if head not in fields:
            raise KeyError(key)
        current = getattr(obj, head)
        if rest:
            # loader/optimizer options and each callback's options accept new keys
            new = _set(
                current,
                rest,
                raw,
                key,
                open_map=head in _OPEN_MAPPINGS,
                open_children=head == "callbacks",
            )
        else:
            hints = typing.get_type_hints(type(obj), include_extras=True)
            new = _parse(raw, hints[head], current, key)
        return dataclasses.replace(obj, **{head: new})
    if isinstance(obj, Mapping):
        if head not in obj and not (open_map and not rest):
            raise KeyError(key)
        current = obj.get(head)
        if rest:
            new = _set(current, rest, raw, key, open_map=open_children)
        else:
            new = _parse(raw, type(current) if current is not None else Any, current, key)
        return {**obj, head: new}
    raise KeyError(key)


def _annotation(fn: Callable[..., Any], name: str) -> Any:
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except (NameError, TypeError):
        hints = {}
    if name in hints:
        return hints[name]
    default = inspect.signature(fn).parameters[name].default
    return type(default) if default is not None else Any


def _parse(raw: str, annotation: Any, current: Any, key: str) -> Any:
    """Parse `raw` as `annotation` (int, float, bool, str, X | None, tuple[X, ...], Any, and
    `Annotated[X, Range(...)]` as X: the Range is checked where the value lands, by the spec's
    `__post_init__`, `check_dataset` or `check_callbacks`)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _parse(raw, args[0], current, key)
    if origin in (typing.Union, types.UnionType):
        if raw.lower() in ("none", "null") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _parse(raw, inner[0], current, key)
    if origin is tuple or annotation is tuple:
        text = raw[1:-1] if raw.startswith(("[", "(")) else raw
        items = [v.strip() for v in text.split(",") if v.strip()]
        if len(args) == 2 and args[1] is Ellipsis:  # tuple[int, ...]: each item parsed as int
            return tuple(_parse(item, args[0], current, key) for item in items)
        return tuple(items)
    try:
        if annotation is bool:
            return _parse_bool(raw)
        if annotation is int:
            return int(raw)
        if annotation is float:
            return float(raw)
        if annotation is str:
            return raw
        if annotation is Any:
            return _literal(raw)
    except ValueError:
        name = getattr(annotation, "__name__", str(annotation))
        raise ConvwatchError(
            f"{key} takes a value of type {name} (now {current!r}). Received: {raw!r}"
        ) from None
    raise ConvwatchError(f"{key} cannot be set from the command line")


def _parse_bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise ValueError(raw)


def _literal(raw: str) -> Any:
    for parse in (int, float, _parse_bool):
        try:
            return parse(raw)
        except ValueError:
            pass
    return None if raw.lower() in ("none", "null") else raw


def _unknown_key(experiment: Experiment, key: str) -> ConvwatchError:
    return ConvwatchError(
        f"unknown override key {key!r} for experiment {experiment.name!r}. Valid keys: "
        + ", ".join(override_keys(experiment))
    )
