"""The Experiment spec and `key=value` overrides: types checked, sweeps expanded, errors named."""

from __future__ import annotations

from typing import Annotated

import pytest

from convwatch import ConvwatchError, Data, Experiment, Fit, apply_overrides, override_keys
from convwatch.base.ranges import PositiveInt, Range
from convwatch.run.overrides import parse_override
from convwatch.run.spec import Optimizer, Reference


def build(units: int = 8, dropout: float = 0.1, name: str | None = None):
    raise AssertionError("never built in these tests")


@pytest.fixture
def experiment() -> Experiment:
    return Experiment(name="demo", description="a demo", build_model=build, model={"units": 4})


def test_overrides_set_nested_values_with_their_types(experiment):
    (result,) = apply_overrides(
        experiment,
        [
            "fit.epochs=2",
            "compile.optimizer.learning_rate=1e-2",
            "data.limit=2000",
            "fit.shuffle=false",
            "model.dropout=0.3",
            "compile.metrics=[accuracy,mse]",
            "compile.optimizer.options.momentum=0.9",
        ],
    )
    assert result.fit.epochs == 2 and isinstance(result.fit.epochs, int)
    assert result.compile.optimizer.learning_rate == 0.01
    assert result.data.limit == 2000
    assert result.fit.shuffle is False
    assert result.model_options() == {"units": 4, "dropout": 0.3, "name": None}
    assert result.compile.metrics == ("accuracy", "mse")
    assert result.compile.optimizer.options == {"momentum": 0.9}
    assert experiment.fit.epochs == 10  # the original is untouched (frozen)


def test_optional_values_accept_none(experiment):
    (limited,) = apply_overrides(experiment, ["data.limit=100"])
    (result,) = apply_overrides(limited, ["data.limit=none"])
    assert result.data.limit is None


def test_comma_list_makes_a_sweep_over_every_combination(experiment):
    runs = apply_overrides(experiment, ["fit.epochs=1,2,3", "data.limit=10,20"])
    assert [(r.fit.epochs, r.data.limit) for r in runs] == [
        (1, 10),
        (1, 20),
        (2, 10),
        (2, 20),
        (3, 10),
        (3, 20),
    ]
    assert len({r.config_hash() for r in runs}) == 6


def test_unknown_key_names_it_and_lists_valid_keys(experiment):
    with pytest.raises(ConvwatchError) as info:
        apply_overrides(experiment, ["fit.epoch=2"])
    message = str(info.value)
    assert "'fit.epoch'" in message
    assert "fit.epochs" in message and "compile.optimizer.learning_rate" in message
    assert "model.dropout" in message


@pytest.mark.parametrize("key", ["name=x", "build_model=x", "model.nonexistent=1", "seed.x=1"])
def test_fixed_or_missing_keys_are_refused(experiment, key):
    with pytest.raises(ConvwatchError, match="unknown override key"):
        apply_overrides(experiment, [key])


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("fit.epochs=two", "fit.epochs takes a value of type int"),
        ("fit.epochs=1.5", "fit.epochs takes a value of type int"),
        ("compile.optimizer.learning_rate=fast", "takes a value of type float"),
        ("fit.shuffle=maybe", "takes a value of type bool"),
        ("model.units=many", "model.units takes a value of type int"),
        ("fit.epochs=-1", "fit.epochs must be an integer >= 0. Received: -1"),
        ("data.normalize=zscore", "data.normalize must be one of unit, standard, none"),
        ("fit.validation=train", "fit.validation must be one of test, none"),
    ],
)
def test_wrong_values_are_clear_errors(experiment, override, expected):
    with pytest.raises(ConvwatchError, match=expected):
        apply_overrides(experiment, [override])


def test_override_must_have_an_equals_sign():
    with pytest.raises(ConvwatchError, match="key=value"):
        parse_override("fit.epochs")


def test_override_keys_list_every_settable_key(experiment):
    keys = override_keys(experiment)
    assert "data.options.<any>" in keys
    assert {"fit.epochs", "seed", "model.units", "model.dropout"} <= set(keys)
    assert "name" not in keys and "references" not in keys


def test_model_options_must_be_builder_parameters():
    with pytest.raises(ConvwatchError, match="not parameters of build"):
        Experiment(name="x", description="", build_model=build, model={"layers": 3})


def test_config_is_plain_json_and_hash_ignores_description(experiment):
    import hashlib
    import json

    config = experiment.config()
    assert json.loads(json.dumps(config)) == config
    assert config["build_model"].endswith(":build")
    assert config["fit"] == {
        "epochs": 10,
        "batch_size": 32,
        "steps_per_epoch": None,
        "validation": "test",
        "shuffle": True,
        "on_nan": "stop",
        "strategy": "default",
        "capture_budget": None,
    }
    other = Experiment(
        name="demo", description="other words", build_model=build, model={"units": 4}
    )
    assert other.config_hash() == experiment.config_hash()
    (changed,) = apply_overrides(experiment, ["seed=1"])
    assert changed.config_hash() != experiment.config_hash()
    # no capture budget (the default) is what runs drew before it existed: the same hash, so
    # they still resume; a budget draws other pictures
    before = experiment.config()  # the config as it was before fit.capture_budget existed
    before.pop("description")
    del before["fit"]["capture_budget"]
    text = json.dumps(before, sort_keys=True, default=str)
    assert experiment.config_hash() == hashlib.sha1(text.encode()).hexdigest()[:7]
    (budgeted,) = apply_overrides(experiment, ["fit.capture_budget=0.2"])
    assert budgeted.config_hash() != experiment.config_hash()


def test_sections_validate_when_declared():
    with pytest.raises(ConvwatchError, match="data.limit must be None or an integer >= 1"):
        Data(limit=0)
    with pytest.raises(ConvwatchError, match="fit.batch_size"):
        Fit(batch_size=-1)
    assert Optimizer("sgd").learning_rate == 1e-3


def test_reference_formats_percentages():
    ref = Reference(
        metric="test_error", value=0.0078, label="test error", source="doc", percent=True
    )
    assert ref.format(ref.value) == "0.78%"
    assert ref.format(None) == "n/a"


def ranged(
    units: PositiveInt = 8,
    rate: Annotated[float, Range(0, 1, high_open=True)] = 0.1,
    sizes: tuple[PositiveInt, ...] = (3, 5),
):
    raise AssertionError("ranges are read from the signature, never by building")


def test_builder_ranges_are_read_from_annotated_parameters():
    experiment = Experiment(name="r", description="", build_model=ranged)
    (result,) = apply_overrides(experiment, ["model.rate=0", "model.sizes=[1,2]"])
    assert result.model_options() == {"units": 8, "rate": 0.0, "sizes": (1, 2)}  # ints, not str
    with pytest.raises(ConvwatchError) as info:
        apply_overrides(experiment, ["model.rate=1"])
    assert str(info.value) == "model.rate must be a finite number in [0, 1). Received: 1.0"
    with pytest.raises(ConvwatchError, match=r"model.sizes must be .* Received: \(1, 0\)"):
        apply_overrides(experiment, ["model.sizes=[1,0]"])
    with pytest.raises(ConvwatchError, match="model.units must be an integer >= 1. Received: 0"):
        Experiment(name="r", description="", build_model=ranged, model={"units": 0})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("compile.optimizer.learning_rate=nan", "must be None or a finite number > 0"),
        ("compile.optimizer.learning_rate=-1", "must be None or a finite number > 0"),
        ("compile.optimizer.options.momentum=inf", "options.momentum must be a finite number"),
        ("seed=-1", r"seed must be an integer in \[0, 4294967295\]. Received: -1"),
        ("fit.steps_per_epoch=0", "fit.steps_per_epoch must be None or an integer >= 1"),
    ],
)
def test_spec_sections_refuse_numbers_outside_their_declared_range(experiment, override, message):
    with pytest.raises(ConvwatchError, match=message):
        apply_overrides(experiment, [override])


def test_a_valid_boundary_is_accepted(experiment):
    (result,) = apply_overrides(
        experiment, ["fit.epochs=0", "seed=4294967295", "compile.optimizer.learning_rate=none"]
    )
    assert (result.fit.epochs, result.seed, result.compile.optimizer.learning_rate) == (
        0,
        2**32 - 1,
        None,
    )


def test_config_names_a_builder_by_the_package_that_exports_it():
    """config.json (and so the config hash) names `convwatch.models:larger_cnn`, not the module
    it happens to live in, so moving it inside the package changes no run's hash."""
    from convwatch.models import builders, larger_cnn
    from convwatch.run.spec import public_path

    experiment = Experiment(name="x", description="", build_model=larger_cnn, data=Data("mnist"))
    assert experiment.config()["build_model"] == "convwatch.models:larger_cnn"
    assert public_path(builders._conv_stack) == "convwatch.models.builders:_conv_stack"
    assert public_path(parse_override) == "convwatch.run.overrides:parse_override"
