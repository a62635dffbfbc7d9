"""The override parser on untrusted text: any `key=value` gives experiments or a ConvwatchError.

Overrides come straight from a command line; whatever is typed, the answer is one of convwatch's
own messages (exit 2), never a traceback, and what is accepted is finite and hashable.
"""

from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from convwatch import ConvwatchError, apply_overrides, load_experiment, override_keys
from convwatch.run.overrides import parse_override
from convwatch.run.runner import check

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXPERIMENT = load_experiment("mnist_larger_cnn")
# Placeholders in the key list stand for any name: loader/optimizer options, callback options.
KEYS = [
    k.replace("<any>", "x").replace("<option>", "every_n_epochs") for k in override_keys(EXPERIMENT)
]

SPECIAL = ["nan", "-nan", "inf", "-inf", "1e999", "-0", "0", "-1", "none", "null", "true", "[]", ""]
values = st.one_of(
    st.sampled_from(SPECIAL),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.text(alphabet="0123456789.,-+e[]()nainf ", max_size=12),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=16))


def finite_numbers(value: object, key: str = "") -> None:
    """Every number in an accepted config is finite."""
    if isinstance(value, dict):
        for name, inner in value.items():
            finite_numbers(inner, f"{key}.{name}")
    elif isinstance(value, list | tuple):
        for inner in value:
            finite_numbers(inner, key)
    elif isinstance(value, float):
        assert math.isfinite(value), f"{key} accepted {value!r}"


@FUZZ
@given(text=st.text(max_size=40))
def test_any_text_parses_or_is_refused(text):
    try:
        key, raws = parse_override(text)
    except ConvwatchError as error:
        assert "key=value" in str(error)
    else:
        assert key and key == key.strip() and "=" not in key and raws


@FUZZ
@example(key="compile.optimizer.learning_rate", value="nan")
@example(key="model.dropout", value="inf")
@example(key="model", value="\x00")
@given(key=keys, value=values)
def test_any_override_gives_checked_experiments_or_a_convwatch_error(key, value):
    try:
        variants = apply_overrides(EXPERIMENT, [f"{key}={value}"])
        for variant in variants:
            check(variant)
    except ConvwatchError as error:
        assert str(error)
        return
    for variant in variants:
        config = variant.config()
        finite_numbers(config)
        json.dumps(config, default=str)  # what config.json will hold
        assert len(variant.config_hash()) == 7
