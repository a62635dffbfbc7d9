"""Layer shapes of nested models, and document 002's conv arithmetic against built layers."""

from __future__ import annotations

import pytest

from convwatch.techniques import conv_arithmetic, conv_output_size, layer_shapes


def test_document_002_arithmetic_on_32x32x3():
    assert conv_output_size(32, 3, 1, "valid") == 30  # 32 - 3 + 1
    assert conv_output_size(32, 3, 1, "same") == 32
    assert conv_output_size(32, 3, 2, "valid") == 15  # floor(29 / 2) + 1
    assert conv_output_size(32, 3, 2, "same") == 16  # ceil(32 / 2)
    with pytest.raises(ValueError, match="padding"):
        conv_output_size(32, 3, 1, "full")


def test_keras_builds_what_the_formula_says():
    rows = conv_arithmetic((32, 32, 3), filters=4)
    assert all(row["agree"] for row in rows)
    assert [row["keras"] for row in rows[:4]] == ["30x30x4", "32x32x4", "15x15x4", "16x16x4"]


def test_layer_shapes_walk_into_nested_models(nested_functional):
    model, _ = nested_functional
    rows = {row["layer"]: row for row in layer_shapes(model)}
    assert list(rows) == ["block", "conv", "pool", "flatten", "predictions"]
    assert rows["conv"]["output_shape"] == "(None, 10, 10, 4)"
    assert rows["conv"]["params"] == 3 * 3 * 4 + 4
    assert rows["predictions"]["output_shape"] == "(None, 3)"
