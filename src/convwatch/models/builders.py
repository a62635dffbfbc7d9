"""Model builders the experiments name: each returns a fresh, uncompiled Keras model.

Their keyword arguments with defaults are the `model.*` overrides an experiment accepts
(`model.dropout=0.3`); each number declares its valid range in its annotation
(`convwatch.base.ranges`), checked before any run and on every call.
"""

from __future__ import annotations

from typing import Annotated

import keras
from keras import layers

from convwatch.base.ranges import PositiveFloat, PositiveInt, Range, validate_ranges
from convwatch.models.recombine import recombine

# Keras' Dropout takes [0, 1], but a rate of 1 drops everything and divides by 1 - rate = 0.
DropoutRate = Annotated[float, Range(0, 1, high_open=True)]
Shape = tuple[PositiveInt, ...]


@validate_ranges
def larger_cnn(
    input_shape: Shape = (28, 28, 1), classes: PositiveInt = 10, dropout: DropoutRate = 0.2
) -> keras.Model:
    """The 30/15-filter MNIST net of seed document 004 (after machinelearningmastery's "larger")."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(30, (5, 5), activation="relu", name="conv1"),
            layers.MaxPooling2D((2, 2), name="pool1"),
            layers.Conv2D(15, (3, 3), activation="relu", name="conv2"),
            layers.MaxPooling2D((2, 2), name="pool2"),
            layers.Dropout(dropout, name="dropout"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense1"),
            layers.Dense(50, activation="relu", name="dense2"),
            layers.Dense(classes, activation="softmax", name="predictions"),
        ],
        name="larger_cnn",
    )


@validate_ranges
def baseline_cnn(
    input_shape: Shape = (28, 28, 1), classes: PositiveInt = 10, dropout: DropoutRate = 0.2
) -> keras.Model:
    """The "more basic" one-conv-layer MNIST net that document 004 starts from."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, (5, 5), activation="relu", name="conv1"),
            layers.MaxPooling2D((2, 2), name="pool1"),
            layers.Dropout(dropout, name="dropout"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense1"),
            layers.Dense(classes, activation="softmax", name="predictions"),
        ],
        name="baseline_cnn",
    )


# --------------------------------------------------------------------------- SEEDS 000: shapes


@keras.saving.register_keras_serializable(package="convwatch")
class ChannelRecombine(layers.Layer):
    """Fixed read-out of SEEDS 000: feature maps `(..., F)` averaged into `(..., channels)`.

    Filter i feeds channel i mod `channels` (see `convwatch.models.recombine`); the layer has
    no weights, so training changes only the convolutions before it.
    """

    def __init__(self, channels: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels

    def call(self, maps):
        return recombine(maps, self.channels)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


def _conv_stack(depth, filters, kernel_size, init_limit, activation, prefix=""):
    """`depth` same-padded, bias-free convolutions; `activation` between them, the last linear."""
    return [
        layers.Conv2D(
            filters,
            kernel_size,
            padding="same",
            use_bias=False,
            activation=activation if i < depth else None,
            kernel_initializer=keras.initializers.RandomUniform(-init_limit, init_limit),
            name=f"{prefix}conv{i}",
        )
        for i in range(1, int(depth) + 1)
    ]


@validate_ranges
def shapes_reconstruction(
    input_shape: Shape = (64, 64, 3),
    filters: PositiveInt = 12,
    kernel_size: PositiveInt = 6,
    init_limit: PositiveFloat = 0.1,
    depth: PositiveInt = 1,
    activation: str = "relu",
) -> keras.Model:
    """The 12-filter net of SEEDS 000: Conv2D(12, 6x6, same, no bias), then the fixed recombination.

    Weights start uniform in `±init_limit` (the document's "between ~0.1 and -0.1"). `depth` > 1
    stacks more such convolutions with `activation` between them (the last stays linear).
    """
    return keras.Sequential(
        [
            keras.Input(shape=tuple(int(n) for n in input_shape)),
            *_conv_stack(depth, filters, kernel_size, init_limit, activation),
            ChannelRecombine(int(input_shape[-1]), name="recombine"),
        ],
        name="shapes_reconstruction",
    )


@validate_ranges
def shapes_capacity(
    input_shape: Shape = (64, 64, 3),
    depths: tuple[PositiveInt, ...] = (1, 2, 3),
    filters: PositiveInt = 12,
    kernel_size: PositiveInt = 6,
    init_limit: PositiveFloat = 0.1,
    activation: str = "relu",
) -> keras.Model:
    """One reconstruction branch per depth, side by side on one input; outputs `depth1`, ...

    The branches share nothing, and the training loss is their sum, so each branch learns exactly
    as it would alone, and one run shows them all on the same steps.
    """
    inputs = keras.Input(shape=tuple(int(n) for n in input_shape))
    outputs = []
    for depth in (int(d) for d in depths):
        x = inputs
        for layer in _conv_stack(depth, filters, kernel_size, init_limit, activation, f"d{depth}_"):
            x = layer(x)
        outputs.append(ChannelRecombine(int(input_shape[-1]), name=f"depth{depth}")(x))
    return keras.Model(inputs, outputs, name="shapes_capacity")


# ------------------------------------------------------------------- SEEDS 003/001: classifiers


@validate_ranges
def mlp(
    input_shape: Shape = (28, 28, 1),
    classes: PositiveInt = 10,
    units: PositiveInt = 512,
    dropout: DropoutRate = 0.2,
) -> keras.Model:
    """Seed document 003's MLP: flatten (784) > two hidden ReLU layers > softmax class scores.

    The sizes (512, 512, dropout 0.2) are those of the Keras `mnist_mlp.py` example the
    document points to.
    """
    return keras.Sequential(
        [
            keras.Input(shape=tuple(int(n) for n in input_shape)),
            layers.Flatten(name="flatten"),
            layers.Dense(units, activation="relu", name="dense1"),
            layers.Dropout(dropout, name="dropout1"),
            layers.Dense(units, activation="relu", name="dense2"),
            layers.Dropout(dropout, name="dropout2"),
            layers.Dense(classes, activation="softmax", name="predictions"),
        ],
        name="mlp",
    )


HEADS = ("flatten", "gap")


@validate_ranges
def fashion_cnn(
    input_shape: Shape = (28, 28, 1),
    classes: PositiveInt = 10,
    filters: PositiveInt = 32,
    dropout: DropoutRate = 0.25,
    head: str = "flatten",
) -> keras.Model:
    """Seed document 001's small Fashion-MNIST CNN, with dropout after the convolutions and
    between the dense layers.

    conv(filters, 3x3) > pool > conv(2*filters, 3x3) > pool > dropout > head > dense 128 >
    dropout > softmax. `head="flatten"` hands the dense layer all 7x7 positions of every map;
    `head="gap"` (GlobalAveragePooling2D) only each map's mean, far fewer weights.
    """
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}. Received: head={head!r}")
    pooled = (
        layers.Flatten(name="flatten")
        if head == "flatten"
        else layers.GlobalAveragePooling2D(name="gap")
    )
    return keras.Sequential(
        [
            keras.Input(shape=tuple(int(n) for n in input_shape)),
            layers.Conv2D(filters, 3, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(2 * filters, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Dropout(dropout, name="dropout1"),
            pooled,
            layers.Dense(128, activation="relu", name="dense1"),
            layers.Dropout(dropout, name="dropout2"),
            layers.Dense(classes, activation="softmax", name="predictions"),
        ],
        name=f"fashion_cnn_{head}",
    )
