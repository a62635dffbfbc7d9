"""One run, in named steps: resolve and check the config, prepare the data, build the model,
fit it with the captures, evaluate it, write the metrics, write the pages.

`run_one` owns everything an experiment module does not declare: where files go, the seed, the
log lines, TensorBoard, the status in run.json (running, then completed, failed or interrupted)
and the comparison with the figures the source document reports. The launchers
(`convwatch.run.local_launcher`, `convwatch.run.ray_launcher`) call it once per point.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

from convwatch.base import atomic, layout, liveness
from convwatch.errors import ConvwatchError, RunFailed
from convwatch.plots import plot_history
from convwatch.report.tensorboard_images import write_mural_images
from convwatch.run import keras_setup, metrics, publish, record
from convwatch.run.catalog import load_experiment
from convwatch.run.folder import RunFolder
from convwatch.run.overrides import apply_overrides
from convwatch.run.signals import Interrupted, deferred
from convwatch.run.spec import Experiment, check_finite

CHECKPOINT = layout.CHECKPOINT_FILE  # the last epoch-end model and optimizer, for resume

logger = logging.getLogger(__name__)


def resolve_config(
    name_or_experiment: str | Experiment,
    overrides: Sequence[str],
    experiments_path: str | os.PathLike[str] | None = None,
) -> tuple[Experiment, list[Experiment]]:
    """The experiment, and the variants its overrides ask for (one, or a sweep's points), each
    checked: bad input stops here, before any folder exists."""
    if isinstance(name_or_experiment, Experiment):
        experiment = name_or_experiment
    else:
        experiment = load_experiment(name_or_experiment, experiments_path)
    variants = apply_overrides(experiment, overrides)
    for variant in variants:
        check(variant)
    liveness.heartbeat_every_s()  # a bad $CONVWATCH_HEARTBEAT_EVERY_S stops before any folder
    return experiment, variants


def check(experiment: Experiment) -> None:
    """Fail fast, before any folder exists, on a dataset, optimizer, callback or number that
    cannot work (the spec's own ranges are checked when it is made: `convwatch.run.spec`)."""
    from convwatch.data import DATASETS  # NumPy, and for the callbacks Keras: seconds
    from convwatch.data.registry import check_dataset
    from convwatch.run.captures import check_callbacks

    if experiment.data.name not in DATASETS:
        raise ConvwatchError(
            f"data.name must be one of {', '.join(DATASETS)}. Received: {experiment.data.name!r}"
        )
    check_dataset(experiment.data.name, experiment.data.options)
    keras_setup.make_optimizer(experiment.compile.optimizer)
    keras_setup.check_loss(experiment.compile.loss)
    keras_setup.check_metrics(experiment.compile.metrics)
    check_callbacks(experiment.callbacks)
    check_finite(experiment)  # last: the checks above say more about the values they know
    if experiment.fit.strategy == "multiworker":
        _refuse_multiworker()
    if experiment.model_from:
        keras_setup.trained_model_file(experiment.model_from)


def _refuse_multiworker() -> None:
    """Keras 3 cannot fit under MultiWorkerMirroredStrategy (tried with two local workers: fit
    and evaluate both fail with "Attempt to convert a value (PerReplica...)"); say so up front."""
    import keras
    import tensorflow as tf

    raise ConvwatchError(
        f"fit.strategy=multiworker does not work with Keras {keras.__version__} and TensorFlow "
        f"{tf.__version__}: model.fit under tf.distribute.MultiWorkerMirroredStrategy fails "
        "with 'Attempt to convert a value (PerReplica...)' (keras-team/keras#20585). Use "
        "fit.strategy=mirrored for several GPUs on one machine"
    )


def run_one(
    experiment: Experiment,
    folder: RunFolder,
    command: str,
    overrides: Sequence[str] = (),
    resume: dict[str, Any] | None = None,
) -> None:
    """Run `experiment` into the empty `folder` (or on from `resume`, the run.json of an
    unfinished run there), step by step, keeping run.json up to date throughout."""
    # The steps need NumPy, Keras and TensorFlow (seconds to import): imported once a run
    # starts, so that `import convwatch` and `convwatch list` stay quick.
    from convwatch.run import captures, fit, prepare

    first = record.first_record(
        experiment, command, overrides, captures.captures_record(experiment.callbacks)
    )
    run = first if resume is None else record.resumed_record(resume, first)
    with _recorded(experiment, folder, run):
        if resume is None:
            folder.write_json(layout.CONFIG_JSON, experiment.config())
        keras_setup.set_seed(experiment.seed)
        dataset, arrays = prepare.prepare_data(experiment, folder, run)
        model = keras_setup.build_model(experiment, arrays.x_train, run)
        arrays = prepare.targets_per_output(arrays, len(getattr(model, "outputs", None) or ()))
        folder.write_text(layout.SUMMARY_TXT, keras_setup.summary_text(model))
        # Epoch 0: the untrained model on the test set, so every run shows its starting point.
        initial = evaluate(model, arrays, "before training")
        fitted = fit.fit_with_captures(
            experiment, model, arrays, dataset, folder, run, resume is not None
        )
        evaluation = evaluate(model, arrays)
        figures = metrics.run_metrics(
            evaluation, initial, fitted.recorder.rows, model.count_params(), fitted.captures
        )
        metrics.write_metrics(experiment, folder, run, figures, fitted.captures, dataset.source)
        save_outputs(experiment, folder, model, fitted.recorder)
    logger.info(f"completed in {run['duration_s']:.1f} s: {folder.path}")


@contextlib.contextmanager
def _recorded(experiment: Experiment, folder: RunFolder, run: dict[str, Any]) -> Iterator[None]:
    """Around a run's steps: who runs it and a heartbeat (for readers to tell a live run from a
    dead one: `convwatch.base.liveness`), then its outcome in run.json, then its page."""
    heartbeat = liveness.Heartbeat(folder.path)
    run.update(liveness.identity(), heartbeat_every_s=heartbeat.every_s)
    start = time.monotonic()
    record.write_record(folder, run)
    logger.info(f"run folder {folder.path}")
    try:
        heartbeat.start()
        yield
        run["status"] = "completed"
    except KeyboardInterrupt as error:
        signum = error.signum if isinstance(error, Interrupted) else signal.SIGINT  # Ctrl-C
        name = signal.Signals(signum).name
        done, planned = run["epochs_completed"], experiment.fit.epochs
        run.update(
            status="interrupted", error=f"interrupted by {name} after {done} of {planned} epochs"
        )
        logger.warning(f"run {run['error']}; files written so far are kept")
        raise
    except ConvwatchError as error:  # bad input found only now (a corrupt dataset file)
        run.update(status="failed", error=f"{type(error).__name__}: {error}")
        logger.error(f"run failed: {run['error']}")
        raise
    except BaseException as error:
        error_text = f"{type(error).__name__}: {error}"
        run.update(status="failed", error=error_text, traceback=traceback.format_exc())
        logger.error(f"run failed: {run['error']}")
        raise RunFailed(folder.path, run["error"]) from error
    finally:
        with deferred():
            try:
                run.update(ended=record.now(), duration_s=round(time.monotonic() - start, 2))
                record.write_record(folder, run)
            finally:
                heartbeat.stop()
            publish.write_run_page(folder.path)


def evaluate(model: Any, arrays: Any, when: str | None = None) -> dict[str, float]:
    """The model's metrics on the test set; logged, `when` given ("before training")."""
    result = model.evaluate(arrays.x_test, arrays.y_test, verbose=0, return_dict=True)
    if when is not None:
        logger.info(f"{when}: " + ", ".join(f"test {k} {float(v):.4g}" for k, v in result.items()))
    return result


def save_outputs(experiment: Experiment, folder: RunFolder, model: Any, recorder: Any) -> None:
    """The training curves (`artifacts/curves/`), model.keras in place of the checkpoint, and
    the captures' GIFs as TensorBoard images."""
    if recorder.rows:  # a run of 0 epochs (a fixed or loaded model) has no curves to draw
        atomic.write_figure(
            folder.artifacts("curves") / "curves.png",
            plot_history(recorder.history(), title=f"{experiment.name}: training curves"),
        )
    folder.save_model(model)
    (folder.path / CHECKPOINT).unlink(missing_ok=True)  # model.keras now holds the same
    try:
        write_mural_images(folder.path)
    except Exception as error:  # TensorBoard extras never fail a finished run
        logger.warning(f"murals not written to TensorBoard: {type(error).__name__}: {error}")
