"""Cost of watching a real network: each capture at its defaults on keras.applications models.

MobileNetV3Small and ResNet50V2 (weights=None, 10 classes) at 128 x 128 px, trained 2 epochs
(batch 32, Adam) on 512 natural-photo crops: random, seeded crops of scikit-learn's two sample
photographs (`load_sample_images`), labelled by photograph and horizontal position (2 x 5 = 10
classes), fed as float32 0-255 pixels (these models do their own preprocessing). The
configurations: a plain fit; each capture alone at its defaults (`ActivationCapture(x[:8])`,
`FilterEvolution(probe=x[:1])`, `FilterMaximization(x[:256])`, `EmbeddingProjector(x[:200],
y[:200])`), so under the default capture budget (0.2: the fit with its captures <= 1.2x plain);
and all four together.

Time: each configuration in a fresh process that loads the data, runs a tiny fit of the same
architecture to warm TensorFlow up (32 images, 1 epoch), then a plain fit and the watched fit
right after it, each from the same seed and each timed to the end of its train-end callbacks
(when every capture's file is complete; `bench_callbacks._fit`). The ratio is the watched fit
over the plain one of the same process: side by side, since this machine's speed drifts from
one minute to the next. Both fits trace their own model's functions; the watched one also
whatever its captures trace (a user's first watched fit pays that too). The plain row is a
plain fit against a plain fit: the noise floor. Peak memory is measured apart, one more fresh
process per configuration that loads the data and runs that one fit (a process's peak resident
set depends on what ran in it before), shown as the peak minus the plain fit's. Also: the MB
the captures wrote, whether each capture that writes per-epoch files drew the last epoch
(`epoch002`; FilterEvolution's is read from its NPZ's tags), and what the budget thinned or
skipped (each capture's `budget.json`).

Settings (flags, or environment variables for `make bench`): --models / $BENCH_SCALE_MODELS
(comma-separated keras.applications names), --size / $BENCH_SCALE_SIZE (224 on a GPU),
--images / $BENCH_SCALE_IMAGES, --epochs / $BENCH_SCALE_EPOCHS, --pairs / $BENCH_SCALE_PAIRS
(plain/watched pairs per timing process; the median ratio is shown) and --keep /
$BENCH_SCALE_KEEP (a folder to leave the captures' files in; default: temporary).

Run: .venv/bin/python bench/bench_scale.py [--models MobileNetV3Small --images 64 --epochs 1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from peak_memory import peak_mib, reset_peak

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MODELS = ("MobileNetV3Small", "ResNet50V2")  # the quick one first
CONFIGS = ("plain", "activations", "evolution", "maximization", "embedding", "all four")
SHORT = {
    "activations": "AC",
    "evolution": "FE",
    "maximization": "FM",
    "embedding": "EP",
}
WARMUP_IMAGES = 32
BATCH = 32


def _settings(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=env("BENCH_SCALE_MODELS", ",".join(MODELS)))
    parser.add_argument("--size", type=int, default=int(env("BENCH_SCALE_SIZE", "128")))
    parser.add_argument("--images", type=int, default=int(env("BENCH_SCALE_IMAGES", "512")))
    parser.add_argument("--epochs", type=int, default=int(env("BENCH_SCALE_EPOCHS", "2")))
    parser.add_argument("--pairs", type=int, default=int(env("BENCH_SCALE_PAIRS", "1")))
    parser.add_argument("--keep", default=env("BENCH_SCALE_KEEP", ""))
    # e.g. "plain,all four": the plain fit comes first, for the peak memory others compare to
    parser.add_argument("--configs", default=env("BENCH_SCALE_CONFIGS", ",".join(CONFIGS)))
    return parser.parse_args(argv)


# ---------------------------------------------------------------- in a worker process


def _data(n: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` random `size` x `size` crops of scikit-learn's two sample photographs, 0-255
    float32, labelled photograph * 5 + which fifth of the width the crop starts in."""
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images
    rng = np.random.default_rng(seed)
    x = np.empty((n, size, size, 3), np.float32)
    y = np.empty(n, np.int64)
    for i in range(n):
        which = int(rng.integers(len(photos)))
        photo = photos[which]
        if min(photo.shape[:2]) < size:  # a size past the photographs' 427 px: scale up first
            from PIL import Image

            scale = size / min(photo.shape[:2])
            new = (int(np.ceil(photo.shape[1] * scale)), int(np.ceil(photo.shape[0] * scale)))
            photo = np.asarray(Image.fromarray(photo).resize(new, Image.BILINEAR))
        top = int(rng.integers(photo.shape[0] - size + 1))
        left_range = photo.shape[1] - size + 1
        left = int(rng.integers(left_range))
        x[i] = photo[top : top + size, left : left + size]
        y[i] = which * 5 + min(4, left * 5 // left_range)
    return x, y


def _build(name: str, size: int):
    import keras

    keras.utils.set_random_seed(7)
    model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3), classes=10)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _fit(name: str, size: int, x, y, callbacks, epochs: int) -> float:
    """Seconds of one fit of a fresh `name`, to the end of its train-end callbacks (when every
    capture's file is complete), as `bench_callbacks._fit` times it."""
    import keras

    class Ended(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            self.at = time.perf_counter()

    keras.backend.clear_session()
    model = _build(name, size)
    ended = Ended()
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=[*callbacks, ended])
    return ended.at - start


def _watchers(config: str, out: Path, x, y) -> list:
    from convwatch.callbacks import (
        ActivationCapture,
        EmbeddingProjector,
        FilterEvolution,
        FilterMaximization,
    )

    make = {
        "activations": lambda: ActivationCapture(x[:8], out_dir=out / "activations"),
        "evolution": lambda: FilterEvolution(probe=x[:1], out_dir=out / "evolution"),
        "maximization": lambda: FilterMaximization(x[:256], out_dir=out / "maximization"),
        "embedding": lambda: EmbeddingProjector(x[:200], y[:200], out_dir=out / "embedding"),
    }
    if config == "plain":
        return []
    chosen = list(make) if config == "all four" else [config]
    return [make[c]() for c in chosen]


def _last_epoch(folder: Path, capture: str, epochs: int) -> bool | None:
    """Whether `capture` drew the last epoch (None: it writes no per-epoch file)."""
    tag = f"epoch{epochs:03d}"
    if capture == "evolution":  # one file per layer at train end; the snapshots' tags inside
        tags = set()
        for path in folder.glob("*_kernels.npz"):
            with np.load(path, allow_pickle=False) as data:
                tags.update(str(t) for t in data["tags"])
        return tag in tags if tags else False
    return any(folder.glob(f"*_{tag}.png"))


def _budget_note(folder: Path) -> str:
    """What the budget thinned or skipped, from the capture's `budget.json`."""
    path = folder / "budget.json"
    if not path.exists():
        return "no budget.json"
    entries = json.loads(path.read_text())["captures"]
    notes = []
    for e in entries:
        if e["scale"] is None:
            notes.append(f"{e['tag']} skipped")
        elif e["scale"] < 1:
            notes.append(f"{e['tag']} x{e['scale']:.2g}: {e['drawn']}")
    return "; ".join(notes) if notes else f"nothing thinned ({len(entries)} captures)"


def _megabytes(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def _worker_time(job: dict) -> dict:
    """Warm-up, then `pairs` x (plain fit, watched fit), side by side in this process."""
    name, size, epochs, config = job["model"], job["size"], job["epochs"], job["config"]
    x, y = _data(job["images"], size)
    _fit(name, size, x[:WARMUP_IMAGES], y[:WARMUP_IMAGES], [], 1)  # TensorFlow warmed up
    plain, watched = [], []
    with contextlib.ExitStack() as stack:
        root = Path(job["keep"]) if job["keep"] else Path(stack.enter_context(_tmp()))
        for i in range(job["pairs"]):
            out = root / f"{name}_{size}px" / config.replace(" ", "_") / f"pair{i}"
            plain.append(_fit(name, size, x, y, [], epochs))
            watched.append(_fit(name, size, x, y, _watchers(config, out, x, y), epochs))
        captures = list(SHORT) if config == "all four" else [] if config == "plain" else [config]
        result = {
            "plain_s": statistics.median(plain),
            "watched_s": statistics.median(watched),
            "ratios": [w / p for w, p in zip(watched, plain, strict=True)],
            "mb": _megabytes(out) if out.exists() else 0.0,
            "last": {c: _last_epoch(out / c, c, epochs) for c in captures},
            "budget": {c: _budget_note(out / c) for c in captures},
        }
    return result


def _tmp():
    return tempfile.TemporaryDirectory(prefix="bench_scale_")


def _worker_memory(job: dict) -> dict:
    """Peak resident MiB of this fresh process while it runs the configuration's one fit."""
    name, size, config = job["model"], job["size"], job["config"]
    x, y = _data(job["images"], size)
    reset_peak()  # the peak of the fit, not of loading the data before it
    with _tmp() as tmp:
        _fit(name, size, x, y, _watchers(config, Path(tmp), x, y), job["epochs"])
    return {"peak_mib": peak_mib()}


# ---------------------------------------------------------------- the parent process


def _run_worker(kind: str, job: dict) -> dict:
    args = [sys.executable, __file__, "--worker", kind, json.dumps(job)]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        return {"error": f"{kind} worker failed (rc {done.returncode}):\n{tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(model: str, config: str, timed: dict, peak: dict, plain_peak: float | None) -> list[str]:
    if "error" in timed:
        return [model, config, "error", "", "", "", "", timed["error"].splitlines()[-1][:120]]
    ratios = timed["ratios"]
    ratio = f"{statistics.median(ratios):.2f}x"
    if len(ratios) > 1:
        ratio += f" ({min(ratios):.2f}-{max(ratios):.2f})"
    seconds = f"{timed['watched_s']:.1f} / {timed['plain_s']:.1f}"
    if "error" in peak:
        memory = "error"
    elif plain_peak is None:
        memory = f"{peak['peak_mib']:.0f} MiB"
    else:
        memory = f"{peak['peak_mib'] - plain_peak:+.0f}"
    if config == "plain":
        return [model, config, ratio, seconds, memory, "", "", ""]

    def per(key: str, fmt) -> str:
        values = timed[key]
        if len(values) == 1:
            return fmt(next(iter(values.values())))
        return "; ".join(f"{SHORT[c]}: {fmt(v)}" for c, v in values.items())

    last = per("last", lambda v: "yes" if v else "NO")
    budget = per("budget", str)
    return [model, config, ratio, seconds, memory, f"{timed['mb']:.1f}", last, budget]


def _table(rows: list[list[str]]) -> str:
    head = [
        "model",
        "configuration",
        "time ratio",
        "watched / plain s",
        "peak MiB vs plain",
        "MB written",
        "last epoch drawn",
        "budget: thinned or skipped",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    s = _settings(argv)
    models = [m.strip() for m in s.models.split(",") if m.strip()]
    print(
        f"{', '.join(models)} at {s.size} px: {s.images} photo crops, {s.epochs} epochs, batch "
        f"{BATCH}; time ratio = watched / plain fit in one process ({s.pairs} pair(s)); peak "
        "memory from one fresh process per configuration",
        flush=True,
    )
    rows = []
    for model in models:
        plain_peak = None
        for config in [c for c in CONFIGS if c in s.configs.split(",")]:
            job = dict(
                model=model,
                size=s.size,
                images=s.images,
                epochs=s.epochs,
                config=config,
                pairs=s.pairs,
                keep=s.keep,
            )
            start = time.perf_counter()
            peak = _run_worker("memory", job)
            timed = _run_worker("time", job)
            if config == "plain" and "error" not in peak:
                plain_peak = peak["peak_mib"]
                rows.append(_row(model, config, timed, peak, None))
            else:
                rows.append(_row(model, config, timed, peak, plain_peak))
            for failed in (peak, timed):
                if "error" in failed:
                    print(failed["error"], file=sys.stderr, flush=True)
            print(
                f"  {model} {config}: done in {time.perf_counter() - start:.0f} s: "
                + " | ".join(rows[-1][2:]),
                flush=True,
            )
    print(_table(rows), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        kind, job = sys.argv[2], json.loads(sys.argv[3])
        result = (_worker_time if kind == "time" else _worker_memory)(job)
        print(json.dumps(result), flush=True)
    else:
        main()
