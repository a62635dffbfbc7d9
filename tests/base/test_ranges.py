"""Declared ranges: `Range` on its boundaries, and every number refused before any run folder.

Nothing here trains or builds a model: a bad value must be refused by `runner.check` (or by the
spec as it is made) before `run_experiment` creates the results folder.
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
import pytest

from convwatch import ConvwatchError, Experiment, apply_overrides, run_experiment
from convwatch.base.ranges import (
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Range,
    Seed,
    declared,
    describe,
    non_finite,
    problem,
    validate_ranges,
)
from convwatch.callbacks import ActivationCapture, FilterMaximization
from convwatch.models import larger_cnn
from convwatch.run.captures import check_callbacks, option_ranges
from convwatch.run.runner import check
from convwatch.run.spec import Reference

NAN, INF = float("nan"), float("inf")


# --------------------------------------------------------------------------- Range itself


@pytest.mark.parametrize(
    ("declared_range", "inside", "outside"),
    [
        (Range(0, 1, high_open=True), [0, 0.0, 0.5, 0.999999], [1, 1.0, -1e-12, NAN, INF]),
        (Range(0, low_open=True), [1e-300, 5, 1e300], [0, -0.0, -1, NAN, INF]),
        (Range(1), [1, 2**70], [0.999, 0, -INF]),
        (Range(0, 2**32 - 1), [0, 2**32 - 1], [-1, 2**32]),
        (Range(high=1, high_open=True), [-1e300, 0.99], [1, INF]),
        (Range(), [-1e300, 0, 1e300], [NAN, INF, -INF]),
    ],
)
def test_range_holds_its_boundaries_and_never_nan_or_inf(declared_range, inside, outside):
    for value in inside:
        assert value in declared_range, value
    for value in outside:
        assert value not in declared_range, value


def test_range_refuses_what_is_not_a_number():
    # bool is an int to Python, but `dropout=True` is a mistake, not 1
    assert True not in Range(0, 1) and "0.5" not in Range(0, 1) and None not in Range()


@pytest.mark.parametrize(
    ("declared_range", "words"),
    [
        (Range(0, 1, high_open=True), "in [0, 1)"),
        (Range(0, 1, low_open=True), "in (0, 1]"),
        (Range(0, low_open=True), "> 0"),
        (Range(1), ">= 1"),
        (Range(high=1, high_open=True), "< 1"),
        (Range(high=2), "<= 2"),
        (Range(), "finite"),
    ],
)
def test_range_reads_as_words(declared_range, words):
    assert str(declared_range) == words


def test_annotations_describe_their_range_with_the_type():
    assert describe(PositiveInt) == "an integer >= 1"
    assert describe(PositiveFloat | None) == "None or a finite number > 0"
    assert describe(tuple[PositiveInt, ...]) == "a list or tuple, each item an integer >= 1"
    assert describe(Seed) == "an integer in [0, 4294967295]"
    assert describe(int) is None and describe(str | None) is None  # no Range, no rule


def test_problem_checks_type_range_none_and_items():
    assert problem(PositiveInt, 1) is None and problem(PositiveInt, 0) == "an integer >= 1"
    assert problem(PositiveInt, 1.5) and problem(PositiveInt, True)  # not integers
    assert problem(PositiveFloat, 1) is None  # an int is a fine float
    assert problem(PositiveFloat, 10**400)  # no float can hold it
    assert problem(NonNegativeInt | None, None) is None and problem(NonNegativeInt, None)
    assert problem(tuple[PositiveInt, ...], (28, 28, 1)) is None
    assert problem(tuple[PositiveInt, ...], (28, 0, 1))
    assert problem(int, -5) is None  # nothing declared: nothing to refuse


def test_non_finite_names_each_dotted_key():
    config = {"fit": {"epochs": 1}, "model": {"rates": [0.1, NAN]}, "seed": 0, "x": -INF}
    assert [key for key, _ in non_finite(config)] == ["model.rates[1]", "x"]
    assert not list(non_finite({"big": 10**400, "ok": 1.5, "flag": True}))


def test_validate_ranges_checks_calls_keras_style():
    @validate_ranges
    def build(units: PositiveInt = 8, rate: Annotated[float, Range(0, 1)] = 0.5) -> int:
        return units

    assert build(3) == 3 and build(rate=1.0) == 8
    with pytest.raises(
        ValueError, match=r"^`rate` must be a finite number in \[0, 1\]\. Received: rate=nan$"
    ):
        build(rate=NAN)
    with pytest.raises(ValueError, match="`units` must be an integer >= 1. Received: units=0"):
        build(0)
    with pytest.raises(TypeError):  # a wrong call stays Python's own error
        build(1, 0.5, 3)
    assert set(declared(build)) == {"units", "rate"}


# ------------------------------------------------------- callbacks share one declaration


def test_a_callback_and_the_runner_refuse_the_same_declared_range():
    steps = option_ranges("FilterMaximization")["steps"]
    assert steps is declared(FilterMaximization.__init__)["steps"]
    with pytest.raises(ValueError, match="`steps` must be an integer >= 1. Received: steps=-3"):
        FilterMaximization(steps=-3)
    with pytest.raises(ConvwatchError, match="FilterMaximization.steps must be an integer >= 1"):
        check_callbacks({"FilterMaximization": {"steps": -3}})
    probe = np.zeros((2, 8, 8, 1), np.float32)
    with pytest.raises(ValueError, match="`every_n_epochs` must be None or an integer >= 0"):
        ActivationCapture(probe, every_n_epochs=-1)
    with pytest.raises(ValueError, match="`image_index` must be an integer >= 0"):
        ActivationCapture(probe, image_index=-1)


def test_a_builder_refuses_its_declared_range_when_called():
    with pytest.raises(ValueError, match=r"`dropout` must be a finite number in \[0, 1\)"):
        larger_cnn(dropout=1.0)  # Keras takes 1.0, then divides by 1 - rate = 0


# --------------------------------------------- overrides refused before any folder exists

CASES = [
    # (override, the key named, what is valid, the value as received)
    ("compile.optimizer.learning_rate=nan", "None or a finite number > 0", "nan"),
    ("compile.optimizer.learning_rate=inf", "None or a finite number > 0", "inf"),
    ("compile.optimizer.learning_rate=-1", "None or a finite number > 0", "-1.0"),
    ("compile.optimizer.learning_rate=0", "None or a finite number > 0", "0.0"),
    ("compile.optimizer.options.learning_rate=-1", "None or a finite number > 0", "-1"),
    ("compile.optimizer.options.momentum=nan", "a finite number", "nan"),
    ("compile.optimizer.options.beta_1=-inf", "a finite number", "-inf"),
    ("model.dropout=1.5", "a finite number in [0, 1)", "1.5"),
    ("model.dropout=nan", "a finite number in [0, 1)", "nan"),
    ("model.dropout=1", "a finite number in [0, 1)", "1.0"),
    ("model.classes=0", "an integer >= 1", "0"),
    ("model.input_shape=[28,0,1]", "a list or tuple, each item an integer >= 1", "(28, 0, 1)"),
    ("seed=-1", "an integer in [0, 4294967295]", "-1"),
    ("seed=4294967296", "an integer in [0, 4294967295]", "4294967296"),
    ("fit.batch_size=0", "an integer >= 1", "0"),
    ("fit.steps_per_epoch=0", "None or an integer >= 1", "0"),
    ("data.test_limit=0", "None or an integer >= 1", "0"),
    ("callbacks.FilterMaximization.steps=-3", "an integer >= 1", "-3"),
    ("callbacks.FilterMaximization.learning_rate=nan", "a finite number in (0, 1]", "nan"),
    ("callbacks.FilterMaximization.every_n_epochs=-1", "None or an integer >= 0", "-1"),
    ("callbacks.FilterMaximization.seed=-1", "an integer in [0, 4294967295]", "-1"),
    ("callbacks.ActivationCapture.probe_size=-1", "an integer >= 1", "-1"),
    ("callbacks.ActivationCapture.probe_size=0", "an integer >= 1", "0"),
    ("callbacks.EmbeddingProjector.size=0", "an integer >= 3", "0"),
    ("callbacks.EmbeddingProjector.neighbours=inf", "an integer >= 1", "inf"),
    ("callbacks.FilterEvolution.max_frames=1", "an integer >= 2", "1"),
]


@pytest.mark.parametrize(("override", "valid", "received"), CASES)
def test_a_bad_number_is_refused_naming_key_value_and_range(override, valid, received, tmp_path):
    key = override.partition("=")[0]
    with pytest.raises(ConvwatchError) as info:
        run_experiment("mnist_larger_cnn", [override], results_dir=tmp_path / "results")
    assert str(info.value) == f"{key} must be {valid}. Received: {received}"
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("name", "override", "message"),
    [
        (
            "shapes_reconstruct",
            "data.options.size=8",
            "data.options.size must be an integer in [16, 1024] (dataset 'shapes'). Received: 8",
        ),
        (
            "edge_filters",
            "data.options.size=0",
            "data.options.size must be None or an integer "
            ">= 16 (dataset 'sample_photo'). Received: 0",
        ),
        (
            "shapes_reconstruct",
            "model.init_limit=0",
            "model.init_limit must be a finite number > 0. Received: 0.0",
        ),
        (
            "style_transfer",
            "callbacks.StyleTransfer.tv_weight=-1",
            "callbacks.StyleTransfer: Weights must be >= 0",
        ),
        (
            "style_transfer",
            "model.kernel_sizes=[3,0]",
            "model.kernel_sizes must be a list or "
            "tuple, each item an integer >= 1. Received: (3, 0)",
        ),
    ],
)
def test_loader_builder_and_callback_ranges_of_other_experiments(name, override, message, tmp_path):
    with pytest.raises(ConvwatchError) as info:
        run_experiment(name, [override], results_dir=tmp_path / "results")
    assert message in str(info.value)
    assert not (tmp_path / "results").exists()


def test_the_cli_exits_2_naming_the_key_and_makes_no_folder(tmp_path, capsys):
    from convwatch.cli import main

    results = tmp_path / "results"
    argv = ["run", "mnist_larger_cnn", "compile.optimizer.learning_rate=nan"]
    assert main([*argv, "--results-dir", str(results)]) == 2
    err = capsys.readouterr().err
    assert "compile.optimizer.learning_rate must be None or a finite number > 0" in err
    assert "Received: nan" in err and not results.exists()


@pytest.mark.parametrize(
    "override",
    [
        "model.dropout=0",
        "seed=0",
        "seed=4294967295",
        "fit.epochs=0",
        "compile.optimizer.learning_rate=none",
    ],
)
def test_valid_boundary_values_are_accepted(override):
    from convwatch import load_experiment

    (variant,) = apply_overrides(load_experiment("mnist_larger_cnn"), [override])
    check(variant)  # raises nothing


# ------------------------------------------ declared values: the same checks, same words


def test_a_declared_builder_option_out_of_range_is_refused_as_declared():
    with pytest.raises(ConvwatchError, match=r"model.dropout must be a finite number in \[0, 1\)"):
        Experiment(name="x", description="", build_model=larger_cnn, model={"dropout": 1.5})
    with pytest.raises(ConvwatchError, match=r"^seed must be an integer in \[0, 4294967295\]"):
        Experiment(name="x", description="", build_model=larger_cnn, seed=-1)


def test_declared_callback_options_are_checked_before_any_folder(tmp_path):
    experiment = Experiment(
        name="declared",
        description="",
        build_model=larger_cnn,
        callbacks={"ActivationCapture": {"probe_size": 0}},
    )
    with pytest.raises(ConvwatchError, match="callbacks.ActivationCapture.probe_size must be"):
        run_experiment(experiment, results_dir=tmp_path / "results")
    assert not (tmp_path / "results").exists()


def test_any_other_nan_in_the_config_is_the_last_line_of_defence(tmp_path):
    experiment = Experiment(
        name="generic",
        description="",
        build_model=larger_cnn,
        callbacks={"WeightRange": {}},
        references=(Reference("test_accuracy", math.nan, "accuracy", "doc"),),
    )
    with pytest.raises(ConvwatchError) as info:  # `layers` declares no range: a name list
        run_experiment(experiment, ["callbacks.WeightRange.layers=nan"], results_dir=tmp_path)
    assert str(info.value) == "callbacks.WeightRange.layers must be a finite number. Received: nan"
    with pytest.raises(ConvwatchError, match=r"references\[0\].value must be a finite number"):
        check(experiment)
    assert not any(tmp_path.iterdir())


def test_keras_refusing_an_optimizer_option_names_its_key():
    from convwatch.run.keras_setup import make_optimizer
    from convwatch.run.spec import Optimizer

    with pytest.raises(ConvwatchError) as info:
        make_optimizer(Optimizer("sgd", options={"momentum": 2.0, "nesterov": True}))
    message = str(info.value)
    assert "compile.optimizer.options.momentum=2.0" in message and "`momentum`" in message
    assert "nesterov" not in message  # only the option Keras refused


def test_pixel_range_is_two_numbers_low_below_high():
    from convwatch.base.ranges import pixel_range

    assert pixel_range((0, 1)) == (0.0, 1.0) and pixel_range([-1, 1.5]) == (-1.0, 1.5)
    for bad, said in (((1, 0), "low < high"), ((0.5, 0.5), "low < high"), ("ab", "two numbers")):
        with pytest.raises(ValueError, match=said):
            pixel_range(bad)
    with pytest.raises(ValueError, match=r"two numbers \(low, high\). Received: 3"):
        pixel_range(3)
