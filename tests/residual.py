"""A small deep model: three residual stages (32, 16 and 8 px), built functional, as a
Sequential of blocks, or with its stages in a nested backbone; the layers have the same names
in every form, so the stage layers are `stage1_out`, `stage2_out`, `stage3_out`."""

from __future__ import annotations

FORMS = ("functional", "sequential", "nested")
STAGES = ["stage1_out", "stage2_out", "stage3_out"]
WIDTHS = (8, 16, 96)  # the last stage has more channels than a capture shows by default


def _block(x, stage: int, width: int, stride: int):
    import keras

    L = keras.layers
    name = f"stage{stage}"
    x = L.Conv2D(width, 3, strides=stride, padding="same", activation="relu", name=f"{name}_in")(x)
    y = L.Conv2D(width, 3, padding="same", name=f"{name}_conv_a")(x)
    y = L.BatchNormalization(name=f"{name}_bn")(y)
    y = L.ReLU(name=f"{name}_relu")(y)
    y = L.Conv2D(width, 3, padding="same", name=f"{name}_conv_b")(y)
    y = L.Add(name=f"{name}_add")([x, y])
    return L.Activation("relu", name=f"{name}_out")(y)


def _stages(inputs):
    x = inputs
    for stage, width in enumerate(WIDTHS, start=1):
        x = _block(x, stage, width, 1 if stage == 1 else 2)
    return x


def _head(x):
    import keras

    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.layers.Dense(3, activation="softmax", name="predictions")(x)


def residual_net(form: str = "functional", size: int = 32):
    """The three-stage residual net on `(size, size, 3)` images, in `form` (see FORMS)."""
    import keras

    shape = (size, size, 3)
    if form == "functional":
        inputs = keras.Input(shape)
        return keras.Model(inputs, _head(_stages(inputs)), name="residual")
    if form == "sequential":
        blocks = []
        in_shape = shape
        for stage, width in enumerate(WIDTHS, start=1):
            inputs = keras.Input(in_shape)
            out = _block(inputs, stage, width, 1 if stage == 1 else 2)
            blocks.append(keras.Model(inputs, out, name=f"block{stage}"))
            in_shape = tuple(out.shape[1:])
        head = [keras.layers.GlobalAveragePooling2D(name="gap")]
        head.append(keras.layers.Dense(3, activation="softmax", name="predictions"))
        return keras.Sequential([keras.Input(shape), *blocks, *head], name="residual")
    if form == "nested":
        inputs = keras.Input(shape)
        backbone = keras.Model(inputs, _stages(inputs), name="backbone")
        outer = keras.Input(shape)
        return keras.Model(outer, _head(backbone(outer)), name="residual")
    raise ValueError(f"form must be one of {FORMS}. Received: {form!r}")
