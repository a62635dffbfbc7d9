"""What a capture predicts its cost from, and the symbolic traces it reads once per model."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from convwatch.techniques.memory import ForwardCost, read_cost
from convwatch.techniques.receptive_field import receptive_field
from convwatch.techniques.traced import traced_calls


def test_a_forward_cost_counts_calls_and_examples():
    cost = ForwardCost(per_call=0.1, per_example=0.01)
    assert cost.seconds(10, batch=4) == pytest.approx(3 * 0.1 + 10 * 0.01)  # 3 calls
    assert cost.seconds(10, batch=4, share=0.5) == pytest.approx(0.5 * 0.4)
    assert cost.seconds(0, batch=4) == pytest.approx(0.1)  # a call, even for nothing


def test_read_cost_times_a_compiled_call(tiny_cnn, images):
    x, _ = images
    cost = read_cost(tiny_cnn, x, ["conv"], batch=4)
    assert cost.per_call > 0 and cost.per_example == 0
    assert cost.seconds(9, batch=4) == pytest.approx(3 * cost.per_call)


def test_traces_are_kept_per_model_until_a_sequential_model_grows():
    """The layers' shapes and receptive fields are traced once per model (the stage choice,
    the memory estimate and the atlas plan all read them), and again once a layer is added."""
    model = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(2, 3, name="a")])
    first = traced_calls(model, (12, 12, 1))
    assert traced_calls(model, (12, 12, 1)) == first
    assert receptive_field(model, "a") == (4, 4, 3, 3)  # the centre of 10 x 10
    model.add(keras.layers.Conv2D(2, 3, name="b"))
    assert [call.path for call in traced_calls(model, (12, 12, 1))] == ["a", "b"]
    assert receptive_field(model, "b") == (3, 3, 5, 5)
    assert np.prod(traced_calls(model, (12, 12, 1))[-1].shapes[0][1:]) == 8 * 8 * 2
