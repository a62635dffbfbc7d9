"""layer_outputs: one sub-model call, checked against calling the pieces by hand."""

import keras
import numpy as np
import pytest

from convwatch.techniques import layer_outputs
from convwatch.techniques.extractor import feature_extractor
from tests.arrays import assert_allclose


def test_default_layers_and_shapes(tiny_cnn, images):
    x, _ = images
    outputs = layer_outputs(tiny_cnn, x)
    shapes = {name: value.shape for name, value in outputs.items()}
    # 12x12 input, 3x3 valid conv -> 10x10, 2x2 pool -> 5x5; Flatten is not a default layer.
    assert shapes == {
        "conv": (16, 10, 10, 4),
        "pool": (16, 5, 5, 4),
        "hidden": (16, 8),
        "predictions": (16, 3),
    }


def test_values_equal_manual_sub_models(tiny_cnn, images):
    x, _ = images
    outputs = layer_outputs(tiny_cnn, x, ["predictions", "conv"])
    assert list(outputs) == ["predictions", "conv"]  # the order asked for
    conv = keras.Model(tiny_cnn.inputs, tiny_cnn.get_layer("conv").output)([x])
    assert_allclose(outputs["conv"], conv, rtol=1e-6, atol=1e-6)
    assert_allclose(outputs["predictions"], tiny_cnn(x), rtol=1e-6, atol=1e-6)
    # Dense layer by hand: relu(flatten(pool) @ W + b).
    pool = layer_outputs(tiny_cnn, x, "pool")["pool"]
    kernel, bias = (w.numpy() for w in tiny_cnn.get_layer("hidden").weights)
    hidden = np.maximum(pool.reshape(16, -1) @ kernel + bias, 0)
    assert_allclose(layer_outputs(tiny_cnn, x, ["hidden"])["hidden"], hidden, atol=1e-5)


def test_sub_model_is_cached(tiny_cnn, images):
    x, _ = images
    layer_outputs(tiny_cnn, x, ["conv", "hidden"])
    first = feature_extractor(tiny_cnn, ["conv", "hidden"])
    layer_outputs(tiny_cnn, x, ["conv", "hidden"])
    assert feature_extractor(tiny_cnn, ["conv", "hidden"]) is first


def test_functional_two_branch(two_branch, images):
    x, _ = images
    outputs = layer_outputs(two_branch, x)
    assert list(outputs) == ["conv_a", "gap", "dense_b", "out"]
    conv = keras.ops.convert_to_numpy(two_branch.get_layer("conv_a")(x))
    assert_allclose(outputs["conv_a"], conv, atol=1e-6)
    assert_allclose(outputs["gap"], conv.mean(axis=(1, 2)), atol=1e-6)
    dense = two_branch.get_layer("dense_b")(x.reshape(16, -1))
    assert_allclose(outputs["dense_b"], dense, atol=1e-6)
    assert_allclose(outputs["out"], two_branch(x), atol=1e-6)


def test_unbuilt_sequential_is_built_on_first_call(unbuilt_sequential, images):
    x, _ = images
    assert not unbuilt_sequential.built
    outputs = layer_outputs(unbuilt_sequential, x)
    conv = unbuilt_sequential.get_layer("conv")(x)
    assert_allclose(outputs["conv"], conv, atol=1e-6)
    assert_allclose(outputs["dense"], unbuilt_sequential(x), atol=1e-6)


def test_sequential_built_by_fit_without_input(unbuilt_sequential, images):
    x, y = images
    unbuilt_sequential.compile("sgd", "sparse_categorical_crossentropy")
    unbuilt_sequential.fit(x, y, epochs=1, verbose=0)
    outputs = layer_outputs(unbuilt_sequential, x, ["dense"])
    assert_allclose(outputs["dense"], unbuilt_sequential(x), atol=1e-5)


def test_nested_sequential_block_in_functional(nested_functional, images):
    x, _ = images
    model, block = nested_functional
    outputs = layer_outputs(model, x)
    assert list(outputs) == ["conv", "pool", "predictions"]
    assert_allclose(outputs["conv"], block.get_layer("conv")(x), atol=1e-6)
    assert_allclose(outputs["pool"], block(x), atol=1e-6)
    assert_allclose(outputs["predictions"], model(x), atol=1e-6)
    # The full path names the same layer; the block itself can be asked for too.
    by_path = layer_outputs(model, x, ["block/conv", "block"])
    assert_allclose(by_path["block/conv"], outputs["conv"], atol=1e-6)
    assert_allclose(by_path["block"], block(x), atol=1e-6)


def test_functional_model_used_as_a_layer(nested_sequential, images):
    x, _ = images
    model, inner = nested_sequential
    outputs = layer_outputs(model, x)
    assert list(outputs) == ["inner_conv", "head"]
    assert_allclose(outputs["inner_conv"], inner(x), atol=1e-6)
    assert_allclose(outputs["head"], model(x), atol=1e-6)


def test_unknown_layer_is_a_clear_error(tiny_cnn, images):
    x, _ = images
    with pytest.raises(ValueError, match=r"'nope'.*Valid layer names: conv, pool"):
        layer_outputs(tiny_cnn, x, ["conv", "nope"])


def test_in_batches_the_same_outputs(tiny_cnn, images):
    x, _ = images
    whole = layer_outputs(tiny_cnn, x)
    batched = layer_outputs(tiny_cnn, x, batch_size=3)  # uneven: the last batch is short
    assert list(batched) == list(whole)
    for name in whole:
        assert_allclose(batched[name], whole[name], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        layer_outputs(tiny_cnn, x, batch_size=0)


def test_compiled_the_same_outputs_in_any_number_of_batches(tiny_cnn, images):
    """A capture reads its layers through a compiled sub-model, each call padded to the batch
    size: the outputs are the eager ones, for every input and no more."""
    x, _ = images
    whole = layer_outputs(tiny_cnn, x)
    for batch in (None, 3, len(x) + 5):  # all at once, uneven batches, one padded call
        compiled = layer_outputs(tiny_cnn, x, batch_size=batch, compiled=True)
        assert list(compiled) == list(whole)
        for name in whole:
            assert compiled[name].shape == whole[name].shape
            assert_allclose(compiled[name], whole[name], rtol=1e-5, atol=1e-6)
