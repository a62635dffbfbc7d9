"""Keras objects an experiment names as plain data: the optimizer, the tf.distribute strategy,
the loss, and a trained model to load (`model=PATH`); and the runner's build-model step.

Keras is imported inside the functions that use it: it takes seconds, and `import convwatch`
(and `convwatch list`) should not wait for it.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from convwatch.errors import ConvwatchError
from convwatch.run.spec import OPTIMIZER_PRESETS, Experiment, Optimizer

logger = logging.getLogger(__name__)


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and TensorFlow's generators, so a run repeats exactly."""
    import keras

    keras.utils.set_random_seed(seed)


def build_model(experiment: Experiment, x_train: Any, record: dict[str, Any]) -> Any:
    """The compiled, built model of `experiment`: made by its builder, or loaded from
    `model_from` (checked against the data's shape `x_train`), under its tf.distribute
    strategy. `record` (run.json) gains the replicas and where a loaded model came from."""
    strategy = distribution_strategy(experiment.fit.strategy)
    if strategy is not None:
        record["replicas"] = strategy.num_replicas_in_sync
        logger.info(f"{experiment.fit.strategy} strategy: {strategy.num_replicas_in_sync} replicas")
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        if experiment.model_from:
            model, record["model_from"] = load_trained_model(experiment.model_from)
            check_input_shape(model, x_train, experiment.model_from)
            logger.info(f"model: {record['model_from']['file']} (trained; not built anew)")
        else:
            model = experiment.build_model(**experiment.model_options())
        model.compile(
            optimizer=make_optimizer(experiment.compile.optimizer),
            loss=experiment.compile.loss,
            metrics=list(experiment.compile.metrics),
        )
        if not model.built:
            model(x_train[:1])
    return model


def summary_text(model: Any) -> str:
    """`model.summary()` as text, for summary.txt."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines) + "\n"


def make_optimizer(spec: Optimizer) -> Any:
    """The Keras optimizer `spec` names, or a ConvwatchError saying what was wrong: an unknown
    name, or the options Keras' constructor refuses, named by their override keys."""
    import keras

    name, preset = OPTIMIZER_PRESETS.get(spec.name, (spec.name, {}))
    rate = {} if spec.learning_rate is None else {"learning_rate": spec.learning_rate}
    config = {**rate, **preset, **spec.options}
    try:
        keras.optimizers.get({"class_name": name, "config": {}})
    except (ValueError, TypeError) as error:
        raise ConvwatchError(
            f"compile.optimizer {spec.name!r} with options {config} is not a Keras optimizer "
            f"(e.g. sgd, adam, rmsprop, adagrad, adadelta, nadam, adamw) or a preset "
            f"({', '.join(OPTIMIZER_PRESETS)}): {error}"
        ) from None
    try:
        return keras.optimizers.get({"class_name": name, "config": config})
    except (ValueError, TypeError) as error:
        # Keras names the argument it refuses ("`momentum` must be a float between [0, 1].")
        named = [key for key in config if key in str(error)] or list(config)
        given = ", ".join(f"{_option_key(spec, key)}={config[key]!r}" for key in named)
        raise ConvwatchError(
            f"compile.optimizer {spec.name!r}: Keras refuses {given}: {error}"
        ) from None


def _option_key(spec: Optimizer, key: str) -> str:
    """The override key that sets the optimizer argument `key`."""
    if key == "learning_rate" and key not in spec.options:
        return "compile.optimizer.learning_rate"
    return f"compile.optimizer.options.{key}"


def distribution_strategy(name: str) -> Any:
    """The tf.distribute strategy `fit.strategy` names; None for the default (one device).

    `mirrored` copies the model onto every local GPU, or every logical CPU device where there is
    no GPU. (`multiworker` is refused before this is called: see `runner.check`.)
    """
    if name == "default":
        return None
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if gpus:
        return tf.distribute.MirroredStrategy(gpus)
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(
        cpus, cross_device_ops=tf.distribute.ReductionToOneDevice()
    )


def _check_known(key: str, kind: str, get: Any, name: str, examples: str) -> None:
    """Raise ConvwatchError naming `key` unless Keras' `get` (keras.losses.get, ...) knows
    `name`."""
    try:
        get(name)
    except (ValueError, TypeError) as error:
        raise ConvwatchError(
            f"{key}: {name!r} is not a Keras {kind} (e.g. {examples}): {error}"
        ) from None


def check_loss(name: str) -> None:
    """Raise ConvwatchError unless Keras knows the loss `compile.loss` names."""
    import keras

    examples = "categorical_crossentropy, sparse_categorical_crossentropy, mse, mae"
    _check_known("compile.loss", "loss", keras.losses.get, name, examples)


# Names `model.compile` resolves against the loss itself, which keras.metrics.get does not know.
COMPILE_METRIC_NAMES = ("accuracy", "acc", "crossentropy", "ce")


def check_metrics(names: tuple[str, ...]) -> None:
    """Raise ConvwatchError unless Keras knows every metric `compile.metrics` names."""
    import keras

    examples = "accuracy, mse, mae, categorical_accuracy, top_k_categorical_accuracy"
    for name in names:
        if name not in COMPILE_METRIC_NAMES:
            _check_known("compile.metrics", "metric", keras.metrics.get, name, examples)


def trained_model_file(path: str) -> Path:
    """The .keras file `model=PATH` names: PATH itself, or PATH/model.keras for a run folder."""
    from convwatch.base.layout import MODEL_FILE

    given = Path(path).expanduser()
    file = given / MODEL_FILE if given.is_dir() else given
    if not file.is_file() or file.suffix != ".keras":
        raise ConvwatchError(
            f"model={path}: no trained model there. Give a run folder holding {MODEL_FILE} "
            "(a completed run, e.g. results/fashion_cnn/<run>) or a .keras file"
        )
    return file


def load_trained_model(path: str) -> tuple[Any, dict[str, Any]]:
    """The model `model=PATH` names, uncompiled, and where it came from (for run.json)."""
    import keras

    import convwatch.models.builders  # noqa: F401  (registers convwatch's own layers for loading)
    from convwatch.base.atomic import read_json
    from convwatch.base.layout import RUN_JSON

    file = trained_model_file(path)
    try:
        model = keras.models.load_model(file, compile=False)
    except Exception as error:
        raise ConvwatchError(f"model={path}: {file} cannot be loaded: {error}") from None
    source: dict[str, Any] = {"file": str(file.resolve())}
    record = file.parent / RUN_JSON
    if record.is_file():
        try:
            run = read_json(record)
            source.update(run=run.get("name"), config_hash=run.get("config_hash"))
        except (OSError, ValueError, AttributeError):
            pass
    return model, source


def check_input_shape(model: Any, x: Any, path: str) -> None:
    """Raise ConvwatchError when the data's images do not fit a loaded model's input."""
    expected = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    given = tuple(x.shape[1:])
    if expected is None:
        return
    fits = len(expected) == len(given)
    if not fits or any(e not in (None, g) for e, g in zip(expected, given, strict=True)):
        raise ConvwatchError(
            f"model={path} takes inputs shaped {expected}, but this experiment's data are "
            f"shaped {given}; load a model trained on the same data"
        )
