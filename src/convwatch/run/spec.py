"""The Experiment spec: what an experiment module declares, as frozen dataclasses that check
themselves.

An experiment is data: which dataset, which model builder, how to compile and fit it, which capture
callbacks to attach, the seed, and the figures the source document reports. Numbers are checked
against the Range their field or builder parameter declares (`convwatch.base.ranges`) when a
section is made, so a declared value and an override (`convwatch.run.overrides`) are refused
alike, before any run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import sys
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from convwatch.base.ranges import (
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Seed,
    declared,
    non_finite,
    problem,
)
from convwatch.errors import ConvwatchError

NORMALIZATIONS = ("unit", "standard", "none")
VALIDATIONS = ("test", "none")
ON_NAN = ("stop", "continue")
STRATEGIES = ("default", "mirrored", "multiworker")


def _check_choice(section: str, key: str, value: Any, choices: Sequence[Any]) -> None:
    if value not in choices:
        raise ConvwatchError(
            f"{section}.{key} must be one of {', '.join(map(str, choices))}. Received: {value!r}"
        )


def _check_ranges(section: str, spec: Any) -> None:
    """ConvwatchError for the first field of the dataclass `spec` outside its declared Range
    (`section` "" for the top level)."""
    hints = typing.get_type_hints(type(spec), include_extras=True)
    for f in dataclasses.fields(spec):
        key = f"{section}.{f.name}" if section else f.name
        _check_value(key, hints[f.name], getattr(spec, f.name))


def _check_value(key: str, annotation: Any, value: Any) -> None:
    """ConvwatchError naming `key`, `value` and what is valid, if `annotation`'s Range refuses
    `value`; nothing where no Range is declared."""
    wanted = problem(annotation, value)
    if wanted:
        raise ConvwatchError(f"{key} must be {wanted}. Received: {value!r}")


def _check_finite(key: str, options: Mapping[str, Any]) -> None:
    """ConvwatchError for a NaN or +-inf among `options`, whose ranges are not declared here."""
    for name, value in non_finite(options):
        raise ConvwatchError(f"{key}.{name} must be a finite number. Received: {value!r}")


@dataclass(frozen=True)
class Data:
    """Which dataset to load and how to turn its uint8 arrays into model inputs."""

    name: str = "mnist"
    limit: PositiveInt | None = None  # stratified subset of the training set, for quick runs
    test_limit: PositiveInt | None = None
    normalize: str = "unit"  # unit: /255; standard: (x - mean) / std of the training set
    one_hot: bool = True  # labels as one-hot vectors, for categorical_crossentropy
    options: Mapping[str, Any] = field(default_factory=dict)  # passed to the loader

    def __post_init__(self) -> None:
        _check_choice("data", "normalize", self.normalize, NORMALIZATIONS)
        _check_ranges("data", self)  # the loader's options: `data.registry.check_dataset`


@dataclass(frozen=True)
class Optimizer:
    """A Keras optimizer by name (`keras.optimizers.get`), its learning rate and other options."""

    name: str = "adam"  # a Keras name, or one of OPTIMIZER_PRESETS
    # None: the optimizer's own default (sgd 0.01, adam 1e-3); <= 0 would train uphill or not
    learning_rate: PositiveFloat | None = 1e-3
    options: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"momentum": 0.9} for sgd

    def __post_init__(self) -> None:
        _check_ranges("compile.optimizer", self)
        # Keras' own constructor refuses the options it cannot take (`make_optimizer`), but not
        # NaN or inf (it takes momentum=nan), nor a learning rate of 0 or less given as an option.
        _check_finite("compile.optimizer.options", self.options)
        if "learning_rate" in self.options:
            rate = typing.get_type_hints(Optimizer, include_extras=True)["learning_rate"]
            key = "compile.optimizer.options.learning_rate"
            _check_value(key, rate, self.options["learning_rate"])


# Names for optimizer settings that take more than a name, so one sweep value can stand for them:
# `compile.optimizer.name=sgd,sgd_momentum,adam` compares plain SGD, SGD with momentum and Adam.
OPTIMIZER_PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd_momentum": ("sgd", {"momentum": 0.9}),
    "sgd_nesterov": ("sgd", {"momentum": 0.9, "nesterov": True}),
}


@dataclass(frozen=True)
class Compile:
    """The arguments of `model.compile`."""

    optimizer: Optimizer = field(default_factory=Optimizer)
    loss: str = "categorical_crossentropy"
    metrics: tuple[str, ...] = ("accuracy",)


@dataclass(frozen=True)
class Fit:
    """The arguments of `model.fit`, and what to validate on after each epoch."""

    epochs: NonNegativeInt = 10  # 0 fits nothing: the callbacks see the untrained model
    batch_size: PositiveInt = 32
    steps_per_epoch: PositiveInt | None = None
    validation: str = "test"  # test: the held-out test set each epoch; none: no validation
    shuffle: bool = True
    on_nan: str = "stop"  # stop: a NaN/inf loss fails the run; continue: let it explode on
    # tf.distribute: mirrored = every local GPU (or CPU device); multiworker = TF_CONFIG's
    # machines, refused with the reason while Keras 3 cannot fit under it
    strategy: str = "default"
    # The share of training time the captures may add (convwatch.callbacks.budget): None
    # draws every capture as scheduled, in full, as the experiments are for their pictures;
    # 0.2 keeps a fit with its captures within 1.2x a plain one, by drawing less
    capture_budget: PositiveFloat | None = None

    def __post_init__(self) -> None:
        _check_choice("fit", "on_nan", self.on_nan, ON_NAN)
        _check_choice("fit", "strategy", self.strategy, STRATEGIES)
        _check_ranges("fit", self)
        _check_choice("fit", "validation", self.validation, VALIDATIONS)


@dataclass(frozen=True)
class Reference:
    """A figure a source document reports, to print beside what this run got.

    `metric` names a key of metrics.json; with `percent=True` the value is a fraction shown as %.
    `when` limits the figure to runs whose config has these dotted keys at these values (a
    document reporting one figure per learning rate); empty means every run.
    """

    metric: str
    value: float
    label: str
    source: str
    percent: bool = False
    when: Mapping[str, Any] = field(default_factory=dict)

    def applies_to(self, config: Mapping[str, Any]) -> bool:
        """True if `config` (as `Experiment.config()` gives it) matches every key of `when`."""
        for key, wanted in self.when.items():
            value: Any = config
            for part in key.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            if value != wanted:
                return False
        return True

    def format(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        return f"{value * 100:.2f}%" if self.percent else f"{value:.4g}"


@dataclass(frozen=True)
class Experiment:
    """One declared experiment. `build_model(**model)` must return an uncompiled Keras model."""

    name: str
    description: str
    build_model: Callable[..., Any]
    data: Data = field(default_factory=Data)
    model: Mapping[str, Any] = field(default_factory=dict)
    compile: Compile = field(default_factory=Compile)
    fit: Fit = field(default_factory=Fit)
    callbacks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    seed: Seed = 0
    references: tuple[Reference, ...] = ()
    # Overrides applied unless the command line sets the same key; a comma list here makes the
    # experiment a sweep by default (`sweep=("compile.optimizer.name=sgd,adam",)`).
    sweep: tuple[str, ...] = ()
    # A trained model to use in place of `build_model`: a run folder (its model.keras) or a
    # .keras file. Set from the command line as `model=PATH`, which also sets fit.epochs=0.
    model_from: str | None = None

    def __post_init__(self) -> None:
        params = model_parameters(self.build_model)
        unknown = sorted(set(self.model) - set(params))
        if unknown:
            raise ConvwatchError(
                f"model options {unknown} are not parameters of {self.build_model.__name__}; "
                f"valid: {', '.join(sorted(params)) or '(none)'}"
            )
        _check_ranges("", self)
        # The builder's declared ranges, read from its signature: never by building the model
        # (that would advance Keras' layer-name counters and rename the real run's layers).
        options = self.model_options()
        for name, annotation in declared(self.build_model).items():
            if name in options:
                _check_value(f"model.{name}", annotation, options[name])

    def model_options(self) -> dict[str, Any]:
        """The keyword arguments `build_model` gets: its defaults, updated by `model`."""
        return {**model_parameters(self.build_model), **self.model}

    def config(self) -> dict[str, Any]:
        """The fully resolved config as plain JSON-able data (what config.json holds)."""
        return {
            "name": self.name,
            "description": self.description,
            "build_model": public_path(self.build_model),
            "data": _plain(self.data),
            "model": _plain(self.model_options()),
            "compile": _plain(self.compile),
            "fit": _plain(self.fit),
            "callbacks": _plain(self.callbacks),
            "seed": self.seed,
            "references": _plain(self.references),
            # only when set, so the hashes of runs that build their model stay as they were
            **({"model_from": self.model_from} if self.model_from else {}),
        }

    def config_hash(self) -> str:
        """A short hash of everything that changes the result (not the description)."""
        config = self.config()
        config.pop("description")
        if config["fit"].get("capture_budget") is None:  # what every run before it drew
            config["fit"].pop("capture_budget", None)
        text = json.dumps(config, sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:7]


def check_finite(experiment: Experiment) -> None:
    """ConvwatchError for any NaN or +-inf left anywhere in the resolved config, naming its
    dotted key: the last line of defence behind the declared ranges."""
    for key, value in non_finite(experiment.config()):
        raise ConvwatchError(f"{key} must be a finite number. Received: {value!r}")


def public_path(function: Callable[..., Any]) -> str:
    """`module:name` of `function`, naming the outermost package that exports it
    (`convwatch.models:larger_cnn`, not the module it is defined in), so config.json and the
    config hash do not change when a package moves a function between its own modules."""
    module, name = function.__module__, function.__qualname__
    parts = module.split(".")
    for depth in range(1, len(parts)):
        parent = sys.modules.get(".".join(parts[:depth]))
        if parent is not None and getattr(parent, name, None) is function:
            return f"{'.'.join(parts[:depth])}:{name}"
    return f"{module}:{name}"


def model_parameters(build_model: Callable[..., Any]) -> dict[str, Any]:
    """The keyword parameters of a model builder that have defaults: the `model.*` knobs."""
    return {
        name: p.default
        for name, p in inspect.signature(build_model).parameters.items()
        if p.default is not inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
