"""Layer lookup and naming: find_layers, penultimate_layer, first_conv_layer, nested names."""

import keras
import pytest
from keras import layers

from convwatch.models import larger_cnn
from convwatch.techniques import find_layers, first_conv_layer, penultimate_layer
from convwatch.techniques.layers import get_layer, layer_paths, resolve


def test_find_layers_on_tiny_cnn(tiny_cnn):
    # Flatten is neither conv, pool nor dense, so it is the one layer left out.
    assert find_layers(tiny_cnn) == ["conv", "pool", "hidden", "predictions"]
    assert find_layers(tiny_cnn, ("conv",)) == ["conv"]
    assert find_layers(tiny_cnn, ("dense", "pool")) == ["pool", "hidden", "predictions"]


def test_find_layers_rejects_unknown_kind(tiny_cnn):
    with pytest.raises(ValueError, match="Valid kinds"):
        find_layers(tiny_cnn, ("lstm",))


def test_penultimate_and_first_conv():
    model = larger_cnn()
    assert penultimate_layer(model) == "dense2"  # the Dense(50) before the softmax
    assert first_conv_layer(model) == "conv1"


def test_penultimate_skips_no_ops_and_output_activation():
    model = keras.Sequential(
        [
            keras.Input((6,)),
            layers.Dense(4, name="features"),
            layers.Dropout(0.5, name="drop"),
            layers.Dense(3, name="logits"),
            layers.Activation("softmax", name="softmax"),
        ]
    )
    # The output layer is logits+softmax; walking back, the Dropout is skipped.
    assert penultimate_layer(model) == "features"


def test_penultimate_of_two_branch_is_the_merge(two_branch):
    assert penultimate_layer(two_branch) == "merge"


def test_errors_without_conv_or_hidden_layer():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="only")])
    with pytest.raises(ValueError, match="no convolution"):
        first_conv_layer(model)
    with pytest.raises(ValueError, match="no layer before its output"):
        penultimate_layer(model)


def test_nested_layers_use_bare_names_when_unique(nested_functional):
    model, block = nested_functional
    assert find_layers(model) == ["conv", "pool", "predictions"]
    assert layer_paths(model)["conv"] == "block/conv"
    assert first_conv_layer(model) == "conv"
    # Both the bare name and the full path find the nested layer.
    assert get_layer(model, "conv") is block.get_layer("conv")
    assert get_layer(model, "block/conv") is block.get_layer("conv")


def test_clashing_names_fall_back_to_paths():
    inner = keras.Sequential([layers.Dense(2, name="dense")], name="inner")
    inputs = keras.Input((3,))
    outputs = layers.Dense(2, name="dense_top")(inner(inputs))
    model = keras.Model(inputs, outputs)
    outer = keras.Sequential([keras.Input((3,)), model, layers.Dense(1, name="dense")])
    names = list(layer_paths(outer))
    # "dense" exists twice: the top-level one keeps its name (its path), the nested one
    # is only reachable by its full path.
    assert "dense" in names and f"{model.name}/inner/dense" in names
    assert resolve(outer, ["dense"]) == ["dense"]


def test_unknown_name_lists_valid_names(tiny_cnn):
    with pytest.raises(ValueError, match=r"no layer named 'nope'.*conv, pool, flatten, hidden"):
        resolve(tiny_cnn, ["nope"])
