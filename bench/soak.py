"""`make soak`: 20 short runs, some interrupted by a signal at a random time, some NaN; then checks
that every run folder is consistent and that `convwatch compare` lists them all.

Prints one summary line, e.g. "20 runs: 14 completed, 4 interrupted, 2 failed, 0 inconsistent",
and exits 1 if any run is inconsistent. Usage: `python bench/soak.py [RESULTS_DIR] [--seed N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

MODULES = {
    "soak_ok": """
        '''A tiny conv net, 3 epochs: completes.'''
        import keras
        from convwatch import Data, Experiment, Fit

        def build():
            return keras.Sequential([
                keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax"),
            ])

        EXPERIMENT = Experiment(
            name="soak_ok", description="completes", build_model=build,
            data=Data(name="mnist", limit=100, test_limit=20), fit=Fit(epochs=3, batch_size=20),
            callbacks={"WeightRange": {"every_n_steps": 2, "every_n_epochs": 0}},
        )
    """,
    "soak_long": """
        '''Many tiny epochs: interrupted by a signal at a random time.'''
        import keras
        from convwatch import Data, Experiment, Fit

        def build():
            return keras.Sequential([
                keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax"),
            ])

        EXPERIMENT = Experiment(
            name="soak_long", description="interrupted", build_model=build,
            data=Data(name="mnist", limit=100, test_limit=20),
            fit=Fit(epochs=300, batch_size=10, steps_per_epoch=10, validation="none"),
            callbacks={"WeightRange": {"every_n_steps": 3, "every_n_epochs": 0}},
        )
    """,
    "soak_nan": """
        '''SGD at a learning rate of 1e6: the loss becomes NaN and the run fails.'''
        import keras
        from convwatch import Compile, Data, Experiment, Fit, Optimizer

        def build():
            return keras.Sequential([
                keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(),
                keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10),
            ])

        EXPERIMENT = Experiment(
            name="soak_nan", description="fails on NaN", build_model=build,
            data=Data(name="mnist", limit=100, test_limit=20),
            compile=Compile(optimizer=Optimizer("sgd", 1e6), loss="mse"),
            fit=Fit(epochs=5, batch_size=10),
        )
    """,
}
# 20 runs: what each is, in a shuffled order.
PLAN = ["soak_ok"] * 14 + ["soak_long"] * 4 + ["soak_nan"] * 2
EXIT = {"completed": {0}, "failed": {1}, "interrupted": {130, 143}}


def run_all(root: Path, experiments: Path, rng: random.Random) -> list[tuple[str, int, float]]:
    env = {**os.environ, "CONVWATCH_EXPERIMENTS": str(experiments), "CONVWATCH_OFFLINE": "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    done = []
    plan = PLAN[:]
    rng.shuffle(plan)
    for number, name in enumerate(plan, 1):
        command = [sys.executable, "-m", "convwatch", "run", name, "--results-dir", str(root)]
        before = set((root / name).glob("*")) if (root / name).is_dir() else set()
        start = time.monotonic()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if name == "soak_long":  # once the run folder exists, a signal at a random moment
            while process.poll() is None and not set((root / name).glob("*/run.json")) - {
                p / "run.json" for p in before
            }:
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 2.0))
            process.send_signal(rng.choice([signal.SIGINT, signal.SIGTERM]))
        code = process.wait(timeout=300)
        print(f"run {number:2}/{len(plan)} {name:9} exit {code} ({time.monotonic() - start:.1f} s)")
        done.append((name, code, start))
    return done


def problems(run: Path, code: int) -> list[str]:
    """What is wrong with one run folder: unreadable files, a status that does not fit."""
    from PIL import Image

    from convwatch.base.atomic import read_csv, read_json, read_npz

    found = []
    for path in run.rglob("*"):
        if not path.is_file() or "tensorboard" in path.parts:
            continue
        if path.name.startswith("."):
            found.append(f"leftover temporary {path.name}")
            continue
        try:
            if path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix == ".csv":
                read_csv(path)
            elif path.suffix == ".npz":
                read_npz(path)
            elif path.suffix in (".png", ".gif"):
                with Image.open(path) as image:
                    image.load()
        except Exception as error:
            found.append(f"{path.relative_to(run)} does not parse: {error}")
    record = read_json(run / "run.json")
    status = record.get("status")
    if code not in EXIT.get(status, ()):
        found.append(f"status {status!r} with exit status {code}")
    rows = read_csv(run / "history.csv") if (run / "history.csv").is_file() else []
    if len(rows) != record.get("epochs_completed"):
        found.append(f"{len(rows)} history rows, {record.get('epochs_completed')} epochs recorded")
    needed = ["index.html"] + (["metrics.json", "model.keras"] if status == "completed" else [])
    found += [f"{name} missing" for name in needed if not (run / name).is_file()]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", help="results folder (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    root = Path(args.results or tempfile.mkdtemp(prefix="convwatch-soak-"))
    experiments = Path(tempfile.mkdtemp(prefix="convwatch-soak-experiments-"))
    for name, text in MODULES.items():
        (experiments / f"{name}.py").write_text(textwrap.dedent(text))
    outcomes = run_all(root, experiments, random.Random(args.seed))

    from convwatch.base.atomic import read_json
    from convwatch.report.reader import find_runs

    runs = sorted(find_runs([str(root)]), key=lambda p: read_json(p / "run.json")["started"])
    counts = {"completed": 0, "interrupted": 0, "failed": 0, "inconsistent": 0}
    by_experiment: dict[str, list[Path]] = {}
    for run in runs:
        by_experiment.setdefault(run.parent.name, []).append(run)
    for name, code, _ in outcomes:  # the runs of one experiment, in the order they started
        run = by_experiment.get(name, []).pop(0) if by_experiment.get(name) else None
        found = ["no run folder"] if run is None else problems(run, code)
        if found:
            counts["inconsistent"] += 1
            print(f"inconsistent {run or name}: {'; '.join(found)}")
        else:
            counts[read_json(run / "run.json")["status"]] += 1
    listed = subprocess.run(
        [sys.executable, "-m", "convwatch", "compare", str(root), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    compared = len(json.loads(listed.stdout)["runs"]) if listed.returncode == 0 else 0
    if compared != len(outcomes):
        counts["inconsistent"] += 1
        print(f"convwatch compare lists {compared} runs, expected {len(outcomes)}")
    print(
        f"{len(outcomes)} runs: {counts['completed']} completed, {counts['interrupted']} "
        f"interrupted, {counts['failed']} failed, {counts['inconsistent']} inconsistent"
    )
    print(f"results: {root}")
    return 1 if counts["inconsistent"] else 0


if __name__ == "__main__":
    sys.exit(main())
