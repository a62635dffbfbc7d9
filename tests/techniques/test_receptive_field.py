"""receptive_field / layer_grid: the input window of a unit, against known nets and against
the support of the gradient of a linear twin (every weight 1, no activation, average pools)."""

import itertools

import keras
import numpy as np
import pytest
from keras import layers

from convwatch.models import larger_cnn
from convwatch.techniques import autodiff, receptive_field
from convwatch.techniques.receptive_field import layer_grid


def test_the_30_15_mnist_net():
    model = larger_cnn()
    assert receptive_field(model, "conv1") == (11, 11, 5, 5)  # 5x5 valid: map 24x24
    assert receptive_field(model, "pool1") == (10, 10, 6, 6)
    assert receptive_field(model, "conv2") == (8, 8, 10, 10)  # 3x3 over 2x2 pools
    assert receptive_field(model, "pool2") == (8, 8, 12, 12)
    assert receptive_field(model, "dense1") == (0, 0, 28, 28)  # past Flatten: everything
    grid = layer_grid(model, "conv2")
    assert [(a.start, a.jump, a.size, a.length) for a in grid.axes] == [(0, 2, 10, 10)] * 2


def gradient_support(model, layer, shape):
    """Rows and columns the centre unit's gradient reaches, in the linear twin of `model`."""
    extractor = keras.Model(model.inputs, model.get_layer(layer).output)

    def centre(x):
        out = extractor(x)
        return out[0, (out.shape[1] - 1) // 2, (out.shape[2] - 1) // 2, 0], None

    run = autodiff.compile_function(lambda x: autodiff.gradient(centre, x)[0], [extractor])
    grad = run(np.ones((1, *shape), np.float32))[0, ..., 0]
    rows, cols = np.flatnonzero(grad.any(1)), np.flatnonzero(grad.any(0))
    return rows[0], cols[0], rows[-1] + 1, cols[-1] + 1


STACKS = [
    [("conv", 3, 1, "same", 1), ("pool", 2, 2, "valid"), ("conv", 3, 2, "same", 1)],
    [("conv", 5, 2, "same", 1), ("conv", 3, 1, "valid", 2), ("pool", 3, 2, "same")],
    [("conv", 4, 1, "same", 1), ("pool", 3, 3, "valid"), ("conv", 2, 1, "same", 1)],
    [("conv", 3, 3, "valid", 1), ("conv", 3, 1, "same", 1), ("pool", 2, 1, "same")],
]


@pytest.mark.parametrize(("stack", "size"), list(itertools.product(STACKS, (17, 20))))
def test_matches_the_gradient_support_of_a_linear_twin(stack, size):
    """Windows clipped to the image equal where the gradient of a net of ones reaches."""
    model = keras.Sequential([keras.Input((size, size + 3, 1))])
    for i, (kind, k, s, padding, *dilation) in enumerate(stack):
        if kind == "conv":
            d = dilation[0]
            model.add(
                layers.Conv2D(
                    1,
                    k,
                    s,
                    padding,
                    dilation_rate=d,
                    kernel_initializer="ones",
                    bias_initializer="zeros",
                    name=f"l{i}",
                )
            )
        else:
            model.add(layers.AveragePooling2D(k, s, padding, name=f"l{i}"))
    for i in range(len(stack)):
        top, left, height, width = receptive_field(model, f"l{i}")
        expected = gradient_support(model, f"l{i}", (size, size + 3, 1))
        clipped = (max(top, 0), max(left, 0), min(top + height, size), min(left + width, size + 3))
        assert clipped == expected, (stack[: i + 1], (top, left, height, width))


def test_nested_and_branching_models():
    inner_in = keras.Input((20, 20, 1))
    inner = keras.Model(inner_in, layers.Conv2D(2, 3, 2, "same", name="bc")(inner_in), name="blk")
    inputs = keras.Input((20, 20, 1))
    x = inner(inputs)
    a = layers.Conv2D(3, 3, name="after")(x)
    b = layers.Conv2D(3, 5, padding="same", name="wide")(x)
    merged = layers.Add(name="add")([layers.Cropping2D(1, name="crop")(b), a])
    model = keras.Model(inputs, merged)
    assert receptive_field(model, "blk/bc") == (8, 8, 3, 3)  # stride 2 "same": [2i, 2i+3)
    assert receptive_field(model, "after") == (6, 6, 7, 7)  # 3x3 more at jump 2
    assert receptive_field(model, "wide") == (4, 4, 11, 11)  # 5x5 "same" at jump 2
    # a merge takes the bounding box of its inputs' windows: unit u is b's unit u + 1 (the
    # crop), [2u - 2, 2u + 9), and a's [2u, 2u + 7): for the centre u = 3, rows 4..14
    assert receptive_field(model, "add") == (4, 4, 11, 11)


def test_unbuilt_model_needs_a_shape(unbuilt_sequential):
    with pytest.raises(ValueError, match="image_shape"):
        receptive_field(unbuilt_sequential, "conv")
    assert receptive_field(unbuilt_sequential, "conv", (9, 9, 1)) == (3, 3, 3, 3)
