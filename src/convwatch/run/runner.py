"""Runs an Experiment into a run folder: seeds, data, model, fit, evaluation, files, status.

The runner owns everything an experiment module does not declare: where files go, the seed, the
console messages, TensorBoard, the status in run.json (running, then completed, failed or
interrupted) and the comparison with the figures the source document reports.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from convwatch.base import atomic, layout, liveness
from convwatch.errors import ConvwatchError, RunFailed
from convwatch.run.catalog import experiments_dir, load_experiment
from convwatch.run.folder import RunFolder
from convwatch.run.keras_setup import (
    check_input_shape,
    check_loss,
    check_metrics,
    distribution_strategy,
    load_trained_model,
    make_optimizer,
    trained_model_file,
)
from convwatch.run.metrics import compare_references, final_metrics
from convwatch.run.signals import STOP, deferred, signals_handled
from convwatch.run.spec import (
    Experiment,
    apply_overrides,
    effective_overrides,
    parse_override,
)
from convwatch.run.sweeps import summarize, sweep_label

CHECKPOINT = layout.CHECKPOINT_FILE  # the last epoch-end model and optimizer, for resume
CHECKPOINT_EVERY_S = float(os.environ.get("CONVWATCH_CHECKPOINT_EVERY_S", "10"))


def say(message: str) -> None:
    print(f"[convwatch] {message}", flush=True)


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
    if isinstance(name_or_experiment, Experiment):
        experiment = name_or_experiment
    else:
        experiment = load_experiment(name_or_experiment, experiments_path)
    variants = apply_overrides(experiment, overrides)
    for variant in variants:
        check(variant)
    liveness.heartbeat_every_s()  # a bad $CONVWATCH_HEARTBEAT_EVERY_S stops before any folder
    command = command or _command_line()
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
                    write_report("write_results_index", results_dir)


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
    try:
        record = folder.read_run()
    except (OSError, ValueError) as error:
        raise ConvwatchError(
            f"{path} is not a run folder with a readable run.json: {error}"
        ) from None
    if not isinstance(record, dict) or not isinstance(record.get("name"), str):
        raise ConvwatchError(f"{folder.path / layout.RUN_JSON} is not a convwatch run record")
    if record.get("status") == "completed":
        raise ConvwatchError(f"{path} already completed; nothing to resume")
    verdict = liveness.judge(record, folder.path)
    if record.get("status") == "running" and not verdict.dead:
        raise ConvwatchError(
            f"{path} is still running ({verdict.reason}); stop it first. A run is resumable "
            "once its process is gone, or after "
            f"{liveness.span(liveness.dead_after_s())} without a heartbeat"
        )
    epoch = record.get("checkpoint_epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 1:
        raise ConvwatchError(f"{path} has no checkpoint to resume from (none was saved)")
    if not (folder.path / CHECKPOINT).is_file():
        raise ConvwatchError(f"{path} has no checkpoint to resume from ({CHECKPOINT} is missing)")
    experiment = load_experiment(record["name"], experiments_path)
    overrides = record.get("overrides") or []
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise ConvwatchError(f"{folder.path / layout.RUN_JSON}: overrides must be strings")
    (variant,) = apply_overrides(experiment, overrides)
    if variant.config_hash() != record.get("config_hash"):
        raise ConvwatchError(
            f"experiment {record['name']!r} changed since {path} ran (config hash "
            f"{variant.config_hash()} != {record.get('config_hash')}); it cannot be resumed"
        )
    check(variant)
    if _read_record(folder) != record:  # loading took a while: did another resume start?
        raise ConvwatchError(
            f"{folder.path / layout.RUN_JSON} changed while {path} was being resumed "
            "(another `convwatch resume`?); nothing was done"
        )
    record["resumed_from"] = {"status": verdict.status, "reason": verdict.reason or None}
    with signals_handled():
        try:
            run_one(variant, folder, command or _command_line(), overrides, resume=record)
        finally:
            with deferred():  # the pages above the run show its new status too
                _refresh_pages_above(folder.path)
    return folder.path


def _refresh_pages_above(run: Path) -> None:
    """After a resume: a sweep point's status in sweep.json and the sweep page, and the nearest
    results index above `run`, say how the run stands now."""
    from convwatch.report.pages import results_root

    listing = _read_record(RunFolder(run.parent), "sweep.json")
    if isinstance(listing, dict) and isinstance(listing.get("runs"), list):
        for point in listing["runs"]:
            if isinstance(point, dict) and point.get("run") == run.name:
                point["status"] = _recorded_status(RunFolder(run))
                try:
                    atomic.write_json(run.parent / "sweep.json", listing)
                except OSError as error:  # never in place of the run's own outcome
                    say(f"sweep.json not updated: {error}")
        write_report("write_sweep_report", run.parent)
    root = results_root(run)
    if root is not None:
        write_report("write_results_index", root)


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
    import hashlib

    digest = hashlib.sha1("".join(v.config_hash() for v in variants).encode()).hexdigest()[:7]
    sweep = RunFolder.create(parent, f"sweep-{digest}")
    runs: list[dict[str, Any]] = []
    swept = [key for key, values in map(parse_override, overrides) if len(values) > 1]
    listing = {"overrides": list(overrides), "planned": len(variants), "runs": runs}
    for number, variant in enumerate(variants, 1):
        label = sweep_label(variant, swept)
        say(f"sweep run {number}/{len(variants)}: {label}")
        folder = RunFolder.create(sweep.path, variant.config_hash())
        runs.append(
            {
                "run": folder.path.name,
                "config_hash": variant.config_hash(),
                "label": label,
                "status": "running",
            }
        )
        sweep.write_json("sweep.json", listing)
        try:
            run_one(variant, folder, command, points[number - 1] if points else ())
        except RunFailed:
            pass
        except KeyboardInterrupt:
            done = sum(r["status"] == "completed" for r in runs)
            say(f"sweep interrupted: {done} of {len(variants)} runs completed ({sweep.path})")
            raise
        finally:
            with deferred():
                runs[-1]["status"] = _recorded_status(folder)
                sweep.write_json("sweep.json", listing)
                write_report("write_sweep_report", sweep.path)
    summarize(sweep, runs, title=f"{parent.name}: {', '.join(swept)}", say=say)
    write_report("write_sweep_report", sweep.path)
    failed = [r["run"] for r in runs if r["status"] != "completed"]
    if failed:
        raise RunFailed(sweep.path, f"{len(failed)} of {len(runs)} sweep runs failed: {failed}")
    return sweep.path


def _read_record(folder: RunFolder, name: str = layout.RUN_JSON) -> Any:
    """The JSON file `name` in `folder` (run.json by default), or None if it cannot be read."""
    try:
        return atomic.read_json(folder.path / name)
    except (OSError, ValueError):
        return None


def _recorded_status(folder: RunFolder) -> str:
    try:
        return str(folder.read_run().get("status", "failed"))
    except (OSError, ValueError, AttributeError):
        return "failed"


def write_report(writer: str, path: str | os.PathLike[str]) -> None:
    """Write a report page (`convwatch.report.pages.<writer>(path)`); a failure here is said and
    never replaces the run's own outcome."""
    try:
        from convwatch.report import pages as report

        getattr(report, writer)(path)
    except Exception as error:
        say(f"report page not written ({writer}): {type(error).__name__}: {error}")


def check(experiment: Experiment) -> None:
    """Fail fast, before any folder exists, on a dataset, optimizer, callback or number that
    cannot work (the spec's own ranges are checked when it is made: `experiment.py`)."""
    from convwatch.data import DATASETS
    from convwatch.data.registry import check_dataset
    from convwatch.run.captures import check_callbacks
    from convwatch.run.spec import check_finite

    if experiment.data.name not in DATASETS:
        raise ConvwatchError(
            f"data.name must be one of {', '.join(DATASETS)}. Received: {experiment.data.name!r}"
        )
    check_dataset(experiment.data.name, experiment.data.options)
    make_optimizer(experiment.compile.optimizer)
    check_loss(experiment.compile.loss)
    check_metrics(experiment.compile.metrics)
    check_callbacks(experiment.callbacks)
    check_finite(experiment)  # last: the checks above say more about the values they know
    if experiment.fit.strategy == "multiworker":
        _refuse_multiworker()
    if experiment.model_from:
        trained_model_file(experiment.model_from)


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
    unfinished run there), keeping run.json up to date throughout."""
    record = _first_record(experiment, command, overrides)
    if resume is not None:
        record = _resumed_record(resume, record["started"])
    # Who runs it, for readers to tell a live run from a dead one (convwatch.base.liveness).
    heartbeat = liveness.Heartbeat(folder.path)
    record.update(liveness.identity(), heartbeat_every_s=heartbeat.every_s)
    start = time.monotonic()
    _write_record(folder, record)
    if resume is None:
        folder.write_json(layout.CONFIG_JSON, experiment.config())
    say(f"run folder {folder.path}")
    try:
        heartbeat.start()
        _train(experiment, folder, record, resume is not None)
        record["status"] = "completed"
    except KeyboardInterrupt as error:
        name = signal.Signals(getattr(error, "signum", signal.SIGINT)).name
        done = record["epochs_completed"]
        record.update(
            status="interrupted",
            error=f"interrupted by {name} after {done} of {experiment.fit.epochs} epochs",
        )
        say(f"run {record['error']}; files written so far are kept")
        raise
    except ConvwatchError as error:  # bad input found only now (a corrupt dataset file)
        record.update(status="failed", error=f"{type(error).__name__}: {error}")
        say(f"run failed: {record['error']}")
        raise
    except BaseException as error:
        record.update(
            status="failed",
            error=f"{type(error).__name__}: {error}",
            traceback=traceback.format_exc(),
        )
        say(f"run failed: {record['error']}")
        raise RunFailed(folder.path, record["error"]) from error
    finally:
        with deferred():
            try:
                record.update(ended=_now(), duration_s=round(time.monotonic() - start, 2))
                _write_record(folder, record)
            finally:
                heartbeat.stop()
            write_report("write_run_report", folder.path)
    say(f"completed in {record['duration_s']:.1f} s: {folder.path}")


def _first_record(experiment: Experiment, command: str, overrides: Sequence[str]) -> dict[str, Any]:
    """run.json of a run about to start: what it is, where it runs, nothing done yet."""
    from convwatch.run.environment import describe

    return {
        "name": experiment.name,
        "status": "running",
        "error": None,
        "started": _now(),
        "ended": None,
        "duration_s": None,
        "command": command,
        "seed": experiment.seed,
        "config_hash": experiment.config_hash(),
        "data_source": None,
        "data_full": None,
        "epochs_completed": 0,
        "checkpoint_epoch": 0,
        "overrides": list(overrides),
        **describe(experiments_dir()),
    }


def _resumed_record(resume: dict[str, Any], now: str) -> dict[str, Any]:
    """run.json of an unfinished run (`resume`) going on from its checkpoint at `now`, with
    this resumption added to its list (and, for a dead run, why it was dead)."""
    earlier = resume.pop("resumed_from", None) or {}
    resumed = {
        "at": now,
        "from_epoch": resume["checkpoint_epoch"],
        "from_status": earlier.get("status", resume.get("status")),
        **({"dead": earlier["reason"]} if earlier.get("status") == "dead" else {}),
    }
    before = resume.get("resumed")
    record = {
        **resume,
        "status": "running",
        "error": None,
        "ended": None,
        "epochs_completed": resume["checkpoint_epoch"],
        "resumed": [*(before if isinstance(before, list) else []), resumed],
    }
    record.pop("traceback", None)
    return record


def _train(
    experiment: Experiment, folder: RunFolder, record: dict[str, Any], resume: bool = False
) -> None:
    import keras

    from convwatch.callbacks import HistoryRecorder
    from convwatch.callbacks.epoch_checkpoint import EpochCheckpoint
    from convwatch.callbacks.run_guard import RunGuard
    from convwatch.data import load_dataset
    from convwatch.plots import plot_history
    from convwatch.run.captures import build_callbacks
    from convwatch.run.prepare import prepare

    keras.utils.set_random_seed(experiment.seed)
    spec = experiment.data
    dataset = load_dataset(
        spec.name,
        limit=spec.limit,
        test_limit=spec.test_limit,
        seed=experiment.seed,
        **spec.options,
    )
    record.update(data_source=dataset.source, data_full=dataset.full)
    _write_record(folder, record)
    say(f"data: {dataset.source}")
    for note in dataset.notes:
        say(f"data: {note}")
    arrays = prepare(dataset, spec)

    strategy = distribution_strategy(experiment.fit.strategy)
    if strategy is not None:
        record["replicas"] = strategy.num_replicas_in_sync
        say(f"{experiment.fit.strategy} strategy: {strategy.num_replicas_in_sync} replicas")
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        if experiment.model_from:
            model, record["model_from"] = load_trained_model(experiment.model_from)
            check_input_shape(model, arrays.x_train, experiment.model_from)
            say(f"model: {record['model_from']['file']} (trained; not built anew)")
        else:
            model = experiment.build_model(**experiment.model_options())
        model.compile(
            optimizer=make_optimizer(experiment.compile.optimizer),
            loss=experiment.compile.loss,
            metrics=list(experiment.compile.metrics),
        )
        if not model.built:
            model(arrays.x_train[:1])
    arrays = _targets_per_output(model, arrays)
    folder.write_text(layout.SUMMARY_TXT, _summary(model))
    # Epoch 0: the untrained model on the test set, so every run shows its starting point.
    initial = model.evaluate(arrays.x_test, arrays.y_test, verbose=0, return_dict=True)
    say("before training: " + ", ".join(f"test {k} {float(v):.4g}" for k, v in initial.items()))

    initial_epoch = record["checkpoint_epoch"] if resume else 0
    if resume:  # weights and optimizer state only: nothing in the file is deserialized
        model.optimizer.build(model.trainable_variables)
        model.load_weights(folder.path / CHECKPOINT)
        say(f"resumed from the checkpoint after epoch {initial_epoch}")
    recorder = _history_recorder(HistoryRecorder, folder, record, initial_epoch)

    def saved(epochs: int) -> None:
        record["checkpoint_epoch"] = epochs
        _write_record(folder, record)

    callbacks = [
        RunGuard(STOP.error, on_nan=experiment.fit.on_nan),
        recorder,
        EpochCheckpoint(folder.path / CHECKPOINT, every_s=CHECKPOINT_EVERY_S, on_save=saved),
        keras.callbacks.TensorBoard(log_dir=str(folder.tensorboard_dir), histogram_freq=1),
        *build_callbacks(experiment.callbacks, arrays, dataset, folder),
    ]
    fit = experiment.fit
    validation = (arrays.x_test, arrays.y_test) if fit.validation == "test" else None
    with deferred():  # a signal stops fit at the next batch (RunGuard), not mid-write
        model.fit(
            *_training_data(arrays, fit.batch_size, fit.steps_per_epoch, experiment.seed),
            batch_size=None if fit.steps_per_epoch else fit.batch_size,  # a stream is batched
            epochs=fit.epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=fit.steps_per_epoch,
            validation_data=validation,
            shuffle=fit.shuffle,
            callbacks=callbacks,
            verbose=1 if sys.stdout.isatty() else 2,
        )
    evaluation = model.evaluate(arrays.x_test, arrays.y_test, verbose=0, return_dict=True)
    metrics = final_metrics(evaluation, recorder.rows)
    metrics.update({f"initial_test_{k}": float(v) for k, v in initial.items()})
    metrics["params"] = model.count_params()
    for callback in callbacks:  # figures a capture measured (PixelTracker), for the references
        metrics.update(getattr(callback, "final_metrics", dict)())
    comparison = compare_references(experiment, metrics)
    for line in comparison:
        say(
            f"reference {line['label']} {line['reference_text']} ({line['source']}), "
            f"this run {line['this_run_text']}"
        )
    # Callbacks with `run_notes()` (DeepDream, StyleTransfer) say what they stood on: a fallback
    # network is named as such in the console, run.json and the report.
    notes = [note for c in callbacks for note in getattr(c, "run_notes", list)()]
    if notes:
        record["notes"] = notes
        for note in notes:
            say(note)
    # Callbacks with a `run_summary()` (ClassificationReport) add their findings under their name.
    reports = {type(c).__name__: c.run_summary() for c in callbacks if hasattr(c, "run_summary")}
    folder.write_json(
        layout.METRICS_JSON,
        {"metrics": metrics, "references": comparison, "data_source": dataset.source, **reports},
    )
    if recorder.rows:  # a run of 0 epochs (a fixed or loaded model) has no curves to draw
        atomic.write_figure(
            folder.artifacts("curves") / "curves.png",
            plot_history(recorder.history(), title=f"{experiment.name}: training curves"),
        )
    folder.save_model(model)
    (folder.path / CHECKPOINT).unlink(missing_ok=True)  # model.keras now holds the same
    try:
        from convwatch.report.tensorboard_images import write_mural_images

        write_mural_images(folder)
    except Exception as error:  # TensorBoard extras never fail a finished run
        say(f"murals not written to TensorBoard: {type(error).__name__}: {error}")


def _history_recorder(
    recorder_class: Any, folder: RunFolder, record: dict[str, Any], epochs: int
) -> Any:
    """A HistoryRecorder; on a resumed run it starts from history.csv's first `epochs` rows."""
    earlier = []
    if epochs:
        earlier = [
            {k: int(v) if k == "epoch" else float(v) for k, v in row.items() if v != ""}
            for row in atomic.read_csv(folder.path / layout.HISTORY_CSV)[:epochs]
        ]

    class Continued(recorder_class):
        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.rows = list(earlier)

    return Continued(folder.path, on_epoch=lambda n: _progress(folder, record, n))


def _training_data(arrays: Any, batch_size: int, steps: int | None, seed: int) -> tuple[Any, ...]:
    """Arrays for plain epochs; a repeating tf.data stream when steps per epoch are fixed."""
    if steps is None:
        return arrays.x_train, arrays.y_train
    import tensorflow as tf

    stream = tf.data.Dataset.from_tensor_slices((arrays.x_train, arrays.y_train))
    stream = stream.shuffle(len(arrays.x_train), seed=seed).repeat().batch(batch_size)
    return (stream,)


def _targets_per_output(model: Any, arrays: Any) -> Any:
    """A model with several outputs (side-by-side branches) learns the same target on each."""
    count = len(getattr(model, "outputs", None) or ())
    if count < 2:
        return arrays
    import dataclasses

    return dataclasses.replace(
        arrays, y_train=(arrays.y_train,) * count, y_test=(arrays.y_test,) * count
    )


def _summary(model: Any) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines) + "\n"


def _progress(folder: RunFolder, record: dict[str, Any], epochs: int) -> None:
    record["epochs_completed"] = epochs
    _write_record(folder, record)


def _write_record(folder: RunFolder, record: dict[str, Any]) -> None:
    """Write run.json; while the run goes, each write is also a heartbeat (at least one per
    epoch; the Heartbeat thread beats in heartbeat.json between them)."""
    if record.get("status") == "running":
        record["heartbeat"] = _now()
    folder.write_json(layout.RUN_JSON, record)


def _command_line() -> str:
    program = Path(sys.argv[0]).name
    if program in ("__main__.py", "cli.py"):
        program = "convwatch"
    return " ".join([program, *sys.argv[1:]])


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
