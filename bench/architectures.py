"""Does each capture run on every keras.applications architecture? A check, not a benchmark.

Every constructor in `keras.applications` (ConvNeXt*, DenseNet*, EfficientNet*, ..., Xception;
the smallest of each family first, then the rest), weights=None, 10 classes, at the smallest
square input it builds at (32, then 75, 96, 128, ... px; or --size), on 8 random 0-255 images
with random labels: each of the four captures alone, one fit of 1 epoch at batch 4, with no
capture budget (`budget=None`, and $CONVWATCH_CAPTURE_BUDGET=none for a capture that takes
none), so each draws everything it would, at small sizes to stay fast:
`ActivationCapture(x[:2])`, `FilterEvolution(probe=x[:1])`, `FilterMaximization(x, steps=3,
max_filters=2, exemplars=2)`, `EmbeddingProjector(x, y)` (8 points; where that fails, again with
neighbours=4, then also methods=("pca",)). Each capture gets a fresh model. Every exception is
caught, per architecture and capture, and shown by its type and first line (the whole traceback
is in the architecture's log). Names of the request's list that this Keras does not have
(RegNet*, ResNetRS*: tf.keras only) are listed as such.

Each architecture runs in a fresh process (memory), killed after --timeout seconds (300); what
it finished by then is kept. The Markdown table (architecture, input size, capture, seconds of
the fit to the end of its train-end callbacks, MB written, what the capture chose: the layers,
read back from the file names, as a count and the first and last; the error; warnings the
captures logged) is rewritten to --out (/tmp/bench26/architectures.md) after every
architecture, so a partial run leaves a table; the logs go beside it.

Not named bench_*.py: `make bench` does not run it; the whole run takes about an hour on 2 cores.

Run: .venv/bin/python bench/architectures.py [--only MobileNetV3Small,ResNet50V2] [--size 96]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SIZES = (32, 75, 96, 128, 160, 192, 224, 299, 331)
CAPTURES = ("ActivationCapture", "FilterEvolution", "FilterMaximization", "EmbeddingProjector")
# Named in the request but absent from Keras 3's keras.applications (they are tf.keras's).
NOT_IN_KERAS = ("RegNetX*", "RegNetY*", "ResNetRS*")
# Run first, so a partial run has covered every family: the smallest of each.
FIRST = (
    "MobileNetV3Small", "ResNet50V2", "EfficientNetB0", "ConvNeXtTiny", "DenseNet121",
    "EfficientNetV2B0", "InceptionV3", "InceptionResNetV2", "MobileNet", "MobileNetV2",
    "MobileNetV3Large", "NASNetMobile", "ResNet50", "VGG16", "Xception",
)  # fmt: skip
IMAGES = 8
RETRIES = ({"neighbours": 4}, {"neighbours": 4, "methods": ("pca",)})
TAG = re.compile(r"_(epoch\d{3}|step\d+)$")


def _settings(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="NAME[,NAME]: these architectures only")
    parser.add_argument("--size", type=int, default=None, help="this input size, not the least")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per architecture")
    parser.add_argument("--out", default="/tmp/bench26/architectures.md")
    parser.add_argument("--keep", default="", help="a folder to leave the captures' files in")
    return parser.parse_args(argv)


def _constructors() -> list[str]:
    import keras

    apps = keras.applications
    names = sorted(n for n in dir(apps) if n[:1].isupper() and callable(getattr(apps, n)))
    return [n for n in FIRST if n in names] + [n for n in names if n not in FIRST]


# ---------------------------------------------------------------- in a worker process


def _build(name: str, size: int):
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3), classes=10)
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def _smallest(name: str, sizes: tuple[int, ...]) -> tuple[int | None, list[str]]:
    """The first of `sizes` that `name` builds at, and why each size before it failed."""
    refused = []
    for size in sizes:
        try:
            _build(name, size)
            return size, refused
        except Exception as e:  # noqa: BLE001 - any refusal: try the next size
            refused.append(f"{size}: {_first_line(e)}")
    return None, refused


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:300]


def _make(capture: str, x, y, out: Path, extra: dict | None):
    import inspect

    import convwatch.callbacks as cw

    cls = getattr(cw, capture)
    options = {
        "ActivationCapture": dict(probe=x[:2]),
        "FilterEvolution": dict(probe=x[:1]),
        "FilterMaximization": dict(probe=x, steps=3, max_filters=2, exemplars=2),
        "EmbeddingProjector": dict(data=x, labels=y),
    }[capture]
    options.update(extra or {})
    if "budget" in inspect.signature(cls).parameters:
        options["budget"] = None
    return cls(out_dir=out, **options)


class _Warnings(logging.Handler):
    """The warnings (and worse) that convwatch logs during one fit."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage().splitlines()[0][:200])


def _chosen(capture: str, folder: Path, model, layer: str | None) -> str:
    """What the capture drew, from the file names it wrote: its layers, in model order."""
    from convwatch.base.layout import file_stem

    files = sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
    if not files:
        return "(no files)"
    if capture == "EmbeddingProjector":
        methods = sorted({f.split("_")[0] for f in files if f.endswith(".csv")})
        return f"layer {layer}; {','.join(methods) or 'no maps'}"
    stems = set()
    for f in files:
        stem, suffix = os.path.splitext(f)
        if capture == "FilterEvolution":
            if f.endswith("_kernels.npz"):
                stems.add(f[: -len("_kernels.npz")])
        elif suffix == ".png" and TAG.search(stem):
            stems.add(TAG.sub("", stem))
    order = {file_stem(layer.name): i for i, layer in enumerate(model.layers)}
    names = sorted(stems, key=lambda s: (order.get(s, len(order)), s))
    found = (TAG.search(os.path.splitext(f)[0]) for f in files)
    tags = sorted({m.group(1) for m in found if m})
    if not names:
        return f"(no layer files: {len(files)} files)"
    span = names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]}"
    return f"{len(names)} layer(s): {span}" + (f" [{','.join(tags)}]" if tags else "")


def _options(extra: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in extra.items())


def _one(name: str, size: int, capture: str, root: Path, extra: dict | None = None) -> dict:
    """One fit of a fresh `name` with `capture` alone; never raises."""
    import keras

    from convwatch.techniques.layers import penultimate_layer

    label = capture + (f" ({_options(extra)})" if extra else "")
    row = dict(capture=label, seconds=None, mb=None, chosen="", error="", warnings=[], tb="")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (IMAGES, size, size, 3)).astype("float32")
    y = rng.integers(0, 10, IMAGES)
    out = root / name / re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")
    handler = _Warnings()
    logging.getLogger("convwatch").addHandler(handler)

    class Ended(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            self.at = time.perf_counter()

    model = None
    try:
        model = _build(name, size)
        callback = _make(capture, x, y, out, extra)
        ended = Ended()
        start = time.perf_counter()
        model.fit(x, y, epochs=1, batch_size=4, verbose=0, callbacks=[callback, ended])
        row["seconds"] = round(ended.at - start, 1)
    except Exception as e:  # noqa: BLE001 - the point: every failure, recorded
        row["error"] = _first_line(e)
        row["tb"] = traceback.format_exc()
    finally:
        logging.getLogger("convwatch").removeHandler(handler)
    row["warnings"] = handler.lines
    if out.exists():
        row["mb"] = round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6, 2)
    if model is not None:
        try:
            layer = penultimate_layer(model) if capture == "EmbeddingProjector" else None
            row["chosen"] = _chosen(capture, out, model, layer)
        except Exception as e:  # noqa: BLE001
            row["chosen"] = f"(could not read: {_first_line(e)})"
    return row


def _worker(name: str, size: int | None, results: Path, keep: str) -> None:
    """Every capture on `name`, one JSON line each appended to `results` as it finishes."""
    import tempfile

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ["CONVWATCH_CAPTURE_BUDGET"] = "none"

    def write(row: dict) -> None:
        with results.open("a") as f:
            f.write(json.dumps(row) + "\n")
        if row.get("tb"):
            print(f"--- {name} {row['capture']}:\n{row['tb']}", file=sys.stderr, flush=True)

    sizes = (size,) if size else SIZES
    start = time.perf_counter()
    chosen_size, refused = _smallest(name, sizes)
    built = time.perf_counter() - start
    write(dict(kind="size", size=chosen_size, refused=refused, seconds=round(built, 1)))
    if chosen_size is None:
        return
    with tempfile.TemporaryDirectory(prefix="architectures_") as tmp:
        root = Path(keep) if keep else Path(tmp)
        for capture in CAPTURES:
            row = _one(name, chosen_size, capture, root)
            write(dict(kind="capture", **row))
            # 8 points are few: where the defaults fail, again with fewer neighbours per query
            # (the default 8 needs 9 points), then without t-SNE too.
            for retry in RETRIES if capture == "EmbeddingProjector" else ():
                if not row["error"]:
                    break
                row = _one(name, chosen_size, capture, root, retry)
                write(dict(kind="capture", **row))


# ---------------------------------------------------------------- the parent process


def _run(name: str, s: argparse.Namespace, logs: Path) -> list[dict]:
    """The worker's lines for `name`, with a row for whatever it did not finish."""
    results = logs / f"{name}.jsonl"
    results.unlink(missing_ok=True)
    args = [sys.executable, __file__, "--worker", name, str(s.size or 0), str(results), s.keep]
    start = time.perf_counter()
    with (logs / f"{name}.log").open("w") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            rc = process.wait(timeout=s.timeout)
            ended = f"process ended with rc {rc}" if rc else ""
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            ended = f"Timeout: architecture past {s.timeout:.0f} s, killed"
    took = time.perf_counter() - start
    lines = (
        [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    )
    done = {r["capture"] for r in lines if r["kind"] == "capture"}
    if not lines:
        lines.append(dict(kind="size", size=None, refused=[ended or "no result"], seconds=None))
    elif lines[0]["size"] is not None:
        for capture in CAPTURES:
            if capture not in done:
                lines.append(
                    dict(kind="capture", capture=capture, seconds=None, mb=None, chosen="",
                         error=ended or "no result", warnings=[], tb="")
                )  # fmt: skip
    print(f"{name}: {took:.0f} s{'; ' + ended if ended else ''}", flush=True)
    return lines


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown(results: dict[str, list[dict]], total: int, elapsed: float) -> str:
    head = ["architecture", "input", "capture", "seconds", "MB", "chosen", "error", "warnings"]
    lines = [
        f"# Captures on keras.applications ({len(results)} of {total} architectures, "
        f"{elapsed / 60:.0f} min)",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for name, rows in results.items():
        size_row = rows[0]
        size = size_row["size"]
        if size is None:
            why = "; ".join(size_row["refused"]) or "not built"
            lines.append(f"| {name} | none | (build) | | | | cannot be built: {_cell(why)} | |")
            continue
        for r in rows[1:]:
            seconds = "" if r["seconds"] is None else f"{r['seconds']:.1f}"
            mb = "" if r["mb"] is None else f"{r['mb']:.2f}"
            warnings = r["warnings"]
            warned = f"{len(warnings)}: {warnings[0]}" if warnings else ""
            cells = [name, str(size), r["capture"], seconds, mb, r["chosen"], r["error"], warned]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    for missing in NOT_IN_KERAS:
        lines.append(
            f"| {missing} | | | | | | not in keras.applications (Keras 3); not run | |"
        )  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    s = _settings(argv)
    out = Path(s.out)
    logs = out.parent / "architectures_logs"
    logs.mkdir(parents=True, exist_ok=True)
    names = _constructors()
    if s.only:
        wanted = [n.strip() for n in s.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            print(f"not in keras.applications: {', '.join(unknown)}", file=sys.stderr)
            return 2
        names = wanted
    print(f"{len(names)} architectures; table: {out}; logs: {logs}", flush=True)
    results: dict[str, list[dict]] = {}
    start = time.perf_counter()
    for name in names:
        results[name] = _run(name, s, logs)
        out.write_text(_markdown(results, len(names), time.perf_counter() - start))
    table = _markdown(results, len(names), time.perf_counter() - start)
    print(table, flush=True)
    failed = [
        (name, r)
        for name, rows in results.items()
        for r in rows[1:]
        if r.get("error") and r.get("tb")
    ]
    for name, r in failed:
        tail = "\n".join(r["tb"].strip().splitlines()[-6:])
        print(f"\n--- {name} / {r['capture']}:\n{tail}", flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        _worker(sys.argv[2], int(sys.argv[3]) or None, Path(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(main())
