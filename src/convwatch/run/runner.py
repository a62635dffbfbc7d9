"""Runs an Experiment into a run folder, in named steps: resolve the config, prepare the data,
build the model, fit it with the captures, evaluate it, write the metrics, write the pages.

The runner owns everything an experiment module does not declare: where files go, the seed, the
log lines, TensorBoard, the status in run.json (running, then completed, failed or interrupted)
and the comparison with the figures the source document reports. A sweep runs one run folder
per point inside a sweep folder; `resume_run` carries an unfinished run on in its own folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import signal
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from convwatch.base import atomic, layout, liveness
from convwatch.errors import ConvwatchError, RunFailed
from convwatch.plots import plot_history
from convwatch.report.tensorboard_images import write_mural_images
from convwatch.run import keras_setup, metrics, publish, record
from convwatch.run.catalog import load_experiment
from convwatch.run.folder import RunFolder
from convwatch.run.overrides import apply_overrides, effective_overrides, parse_override
from convwatch.run.signals import Interrupted, deferred, signals_handled
from convwatch.run.spec import Experiment, check_finite
from convwatch.run.sweeps import summarize, sweep_label

CHECKPOINT = layout.CHECKPOINT_FILE  # the last epoch-end model and optimizer, for resume

logger = logging.getLogger(__name__)


def run_experiment(
    name_or_experiment: str | Experiment,
    overrides: Sequence[str] = (),
    results_dir: str | os.PathLike[str] = "results",
    *,
    experiments_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> Path:
    """Run an experiment (by name or as an object) with `key=value` overrides; return its folder.

    A sweep (an override with several comma-separated values) runs one run folder per point
    inside one sweep folder, and returns the sweep folder. Bad input raises ConvwatchError before
    any folder is made; a run that fails raises RunFailed after its run.json says why.
    """
    experiment, variants = resolve_config(name_or_experiment, overrides, experiments_path)
    command = command or record.command_line()
    parent = Path(results_dir) / experiment.name
    with signals_handled():
        try:
            overrides = effective_overrides(experiment, overrides)
            points = _point_overrides(overrides)
            if len(variants) == 1:
                folder = RunFolder.create(parent, variants[0].config_hash())
                run_one(variants[0], folder, command, points[0])
                return folder.path
            return run_sweep(variants, parent, overrides, command, points)
        finally:
            with deferred():
                if Path(results_dir).is_dir():
                    publish.write_results_page(results_dir)


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


def _point_overrides(overrides: Sequence[str]) -> list[list[str]]:
    """Each sweep point's own `key=value` overrides, in the order apply_overrides makes them."""
    axes = [[f"{key}={raw}" for raw in raws] for key, raws in map(parse_override, overrides)]
    return [list(point) for point in itertools.product(*axes)]


def run_sweep(
    variants: Sequence[Experiment],
    parent: Path,
    overrides: Sequence[str],
    command: str,
    points: Sequence[Sequence[str]] = (),
) -> Path:
    """One run folder per variant inside a new sweep folder; a failed run does not stop the rest."""
    digest = hashlib.sha1("".join(v.config_hash() for v in variants).encode()).hexdigest()[:7]
    sweep = RunFolder.create(parent, f"sweep-{digest}")
    runs: list[dict[str, Any]] = []
    swept = [key for key, values in map(parse_override, overrides) if len(values) > 1]
    listing = {"overrides": list(overrides), "planned": len(variants), "runs": runs}
    for number, variant in enumerate(variants, 1):
        label = sweep_label(variant, swept)
        logger.info(f"sweep run {number}/{len(variants)}: {label}")
        folder = RunFolder.create(sweep.path, variant.config_hash())
        runs.append(
            {
                "run": folder.path.name,
                "config_hash": variant.config_hash(),
                "label": label,
                "status": "running",
            }
        )
        sweep.write_json(layout.SWEEP_JSON, listing)
        try:
            run_one(variant, folder, command, points[number - 1] if points else ())
        except RunFailed:
            pass
        except KeyboardInterrupt:
            done = sum(r["status"] == "completed" for r in runs)
            logger.warning(
                f"sweep interrupted: {done} of {len(variants)} runs completed ({sweep.path})"
            )
            raise
        finally:
            with deferred():
                runs[-1]["status"] = record.recorded_status(folder)
                sweep.write_json(layout.SWEEP_JSON, listing)
                publish.write_sweep_page(sweep.path)
    summarize(sweep, runs, title=f"{parent.name}: {', '.join(swept)}")
    publish.write_sweep_page(sweep.path)
    failed = [r["run"] for r in runs if r["status"] != "completed"]
    if failed:
        raise RunFailed(sweep.path, f"{len(failed)} of {len(runs)} sweep runs failed: {failed}")
    return sweep.path


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


def resume_run(
    path: str | os.PathLike[str],
    *,
    experiments_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> Path:
    """Continue an interrupted, failed or dead run in its own folder from its last checkpoint.

    A run whose run.json says running is resumed only once `convwatch.base.liveness` calls it dead;
    while its process lives, the error names the pid and host. The experiment is loaded by name
    and given the run's recorded overrides; its config must still hash as the run's did.
    history.csv keeps the epochs up to the checkpoint and grows.
    """
    folder = RunFolder(path)
    unfinished, verdict = _resumable(folder)
    experiment = load_experiment(unfinished["name"], experiments_path)
    overrides = unfinished.get("overrides") or []
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise ConvwatchError(f"{folder.path / layout.RUN_JSON}: overrides must be strings")
    (variant,) = apply_overrides(experiment, overrides)
    if variant.config_hash() != unfinished.get("config_hash"):
        raise ConvwatchError(
            f"experiment {unfinished['name']!r} changed since {path} ran (config hash "
            f"{variant.config_hash()} != {unfinished.get('config_hash')}); it cannot be resumed"
        )
    check(variant)
    if record.read_record(folder) != unfinished:  # loading took a while: another resume?
        raise ConvwatchError(
            f"{folder.path / layout.RUN_JSON} changed while {path} was being resumed "
            "(another `convwatch resume`?); nothing was done"
        )
    unfinished["resumed_from"] = {"status": verdict.status, "reason": verdict.reason or None}
    with signals_handled():
        try:
            run_one(variant, folder, command or record.command_line(), overrides, unfinished)
        finally:
            with deferred():  # the pages above the run show its new status too
                publish.refresh_pages_above(folder.path)
    return folder.path


def _resumable(folder: RunFolder) -> tuple[dict[str, Any], liveness.Verdict]:
    """The run.json of a run that can be resumed, and liveness' verdict on it; a ConvwatchError
    saying why not for a folder that is no run, a completed or live run, or no checkpoint."""
    path = folder.path
    try:
        unfinished = folder.read_run()
    except (OSError, ValueError) as error:
        raise ConvwatchError(
            f"{path} is not a run folder with a readable run.json: {error}"
        ) from None
    if not isinstance(unfinished, dict) or not isinstance(unfinished.get("name"), str):
        raise ConvwatchError(f"{path / layout.RUN_JSON} is not a convwatch run record")
    if unfinished.get("status") == "completed":
        raise ConvwatchError(f"{path} already completed; nothing to resume")
    verdict = liveness.judge(unfinished, path)
    if unfinished.get("status") == "running" and not verdict.dead:
        raise ConvwatchError(
            f"{path} is still running ({verdict.reason}); stop it first. A run is resumable "
            "once its process is gone, or after "
            f"{liveness.span(liveness.dead_after_s())} without a heartbeat"
        )
    epoch = unfinished.get("checkpoint_epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 1:
        raise ConvwatchError(f"{path} has no checkpoint to resume from (none was saved)")
    if not (path / CHECKPOINT).is_file():
        raise ConvwatchError(f"{path} has no checkpoint to resume from ({CHECKPOINT} is missing)")
    return unfinished, verdict
