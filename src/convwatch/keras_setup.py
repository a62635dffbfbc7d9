"""Keras objects an experiment names as plain data: the optimizer and the tf.distribute strategy."""

from __future__ import annotations

from typing import Any

from convwatch.errors import ConvwatchError
from convwatch.experiment import OPTIMIZER_PRESETS, Optimizer


def make_optimizer(spec: Optimizer) -> Any:
    """The Keras optimizer `spec` names, or a ConvwatchError saying what was wrong."""
    import keras

    name, preset = OPTIMIZER_PRESETS.get(spec.name, (spec.name, {}))
    rate = {} if spec.learning_rate is None else {"learning_rate": spec.learning_rate}
    config = {**rate, **preset, **spec.options}
    try:
        return keras.optimizers.get({"class_name": name, "config": config})
    except (ValueError, TypeError) as error:
        raise ConvwatchError(
            f"compile.optimizer {spec.name!r} with options {config} is not a Keras optimizer "
            f"(e.g. sgd, adam, rmsprop, adagrad, adadelta, nadam, adamw) or a preset "
            f"({', '.join(OPTIMIZER_PRESETS)}): {error}"
        ) from None


def distribution_strategy(name: str) -> Any:
    """The tf.distribute strategy `fit.strategy` names; None for the default (one device).

    `mirrored` copies the model onto every local GPU, or every logical CPU device where there is
    no GPU; `multiworker` trains on the machines TF_CONFIG lists (each one runs the command).
    """
    if name == "default":
        return None
    import tensorflow as tf

    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if gpus:
        return tf.distribute.MirroredStrategy(gpus)
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(
        cpus, cross_device_ops=tf.distribute.ReductionToOneDevice()
    )


def check_loss(name: str) -> None:
    """Raise ConvwatchError unless Keras knows the loss `compile.loss` names."""
    import keras

    try:
        keras.losses.get(name)
    except (ValueError, TypeError) as error:
        raise ConvwatchError(
            f"compile.loss {name!r} is not a Keras loss (e.g. categorical_crossentropy, "
            f"sparse_categorical_crossentropy, mse, mae, binary_crossentropy): {error}"
        ) from None
