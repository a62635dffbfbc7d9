"""Cost of watching: `fit` with the four capture callbacks at their defaults vs plain `fit`.

The defaults include the capture budget (0.2: the captures may add a fifth of training time,
`convwatch.callbacks.budget`), so these ratios are what keeping it costs in practice.

The 30/15-filter net, batch 100, on Fashion-MNIST when installed (else the offline MNIST subset
repeated to size), at a short run (2 epochs x 10,000 images) and a real run's length (5 epochs x
60,000). Plain and watched fits alternate in this process from the same seed, after a warm-up;
the ratio is the median over the pairs (this machine's speed drifts by a third from one
minute to the next: another tenant's load). Peak memory is measured apart, one fresh process per
fit (a process's peak resident set size depends on what ran in it before): the peak while
it runs that one fit, the data already loaded. The watched fit is also timed with every
capture's background work run inline ($CONVWATCH_BACKGROUND=0), which is what moving it off the
training thread saves. Every file the callbacks wrote is opened after `fit` returns.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from peak_memory import peak_mib, reset_peak


def _data(n: int):
    from convwatch.data import load_dataset
    from convwatch.errors import DataError

    try:
        d = load_dataset("fashion_mnist", limit=n, test_limit=2000)
        source = "Fashion-MNIST"
    except DataError:
        d = load_dataset("mnist")
        source = "offline MNIST subset, repeated"
    reps = int(np.ceil(n / len(d.x_train)))
    x = np.concatenate([d.x_train] * reps)[:n].astype("float32") / 255
    y = np.concatenate([d.y_train] * reps)[:n]
    return x, y, d.x_test.astype("float32") / 255, d.y_test, source


def keras_io_convnet():
    """keras.io's "Simple MNIST convnet": 32 and 64 3x3 filters, pooling, dropout, softmax."""
    import keras

    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def _fit(x, y, callbacks, epochs: int, net: str = "larger_cnn", batch: int = 100) -> float:
    """Seconds of one fit of a fresh 30/15 net (or keras.io's convnet), to the end of its
    train-end callbacks (when every capture's file is complete). Left out: tf.data's teardown
    of the epoch iterator after them, which takes 0 to 2 s at random here, plain fit or not."""
    import keras

    from convwatch.models import larger_cnn

    class Ended(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            self.at = time.perf_counter()

    keras.utils.set_random_seed(7)
    model = larger_cnn() if net == "larger_cnn" else keras_io_convnet()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    ended = Ended()
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=batch, verbose=0, callbacks=[*callbacks, ended])
    return ended.at - start


def _watchers(out: Path, x_test, y_test, probe=None):
    from convwatch.callbacks import (
        ActivationCapture,
        EmbeddingProjector,
        FilterEvolution,
        FilterMaximization,
    )

    return [
        ActivationCapture(x_test[:8], out_dir=out / "activations"),
        FilterEvolution(probe=x_test[:1], out_dir=out / "filters"),
        # the atlas probe set
        FilterMaximization(x_test[:2000] if probe is None else probe, out_dir=out / "maximization"),
        EmbeddingProjector(x_test[:1000], y_test[:1000], out_dir=out / "embedding"),
    ]


def _keras_io_comparison(pairs: int = 3) -> None:
    """keras.io's convnet on 4,000 MNIST digits, 5 epochs, batch 128, with the README's four
    captures at their defaults (the capture budget's 0.2 included) against plain fit."""
    from convwatch.data import load_dataset

    d = load_dataset("mnist")
    x, y = d.x_train[:4000].astype("float32") / 255, d.y_train[:4000]
    x_test, y_test = d.x_test[:500].astype("float32") / 255, d.y_test[:500]
    plain, ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(pairs):
            plain.append(_fit(x, y, [], 5, "keras_io", 128))
            out = Path(tmp) / f"watched{i}"
            watchers = _watchers(out, x_test, y_test, probe=x[:2000])
            ratios.append(_fit(x, y, watchers, 5, "keras_io", 128) / plain[-1])
    print(
        f"keras.io convnet, 5 epochs x 4,000 MNIST digits: fit + 4 captures "
        f"{statistics.median(ratios):.2f}x plain fit ({statistics.median(plain):.2f} s), median "
        f"of {pairs} pairs ({min(ratios):.2f}x to {max(ratios):.2f}x)",
        flush=True,
    )


def _check_files(folder: Path) -> int:
    """How many files the callbacks wrote; each one opens (PNG/GIF by Pillow, NPZ by NumPy)."""
    from PIL import Image

    count = 0
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        if path.name.endswith(".tmp"):
            raise AssertionError(f"a temporary file was left: {path}")
        if path.suffix in (".png", ".gif"):
            with Image.open(path) as image:
                image.load()
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                [data[name] for name in data.files]
        count += 1
    return count


def _compare(epochs: int, n: int, pairs: int, inline: bool) -> None:
    x, y, x_test, y_test, source = _data(n)
    plain, watched, ratios, inline_runs = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(pairs):  # a plain fit, then a watched one: side by side, `pairs` times
            plain.append(_fit(x, y, [], epochs))
            out = Path(tmp) / f"watched{i}"
            watched.append(_fit(x, y, _watchers(out, x_test, y_test), epochs))
            ratios.append(watched[-1] / plain[-1])
            files = _check_files(out)
        if inline:
            os.environ["CONVWATCH_BACKGROUND"] = "0"
            try:
                out = Path(tmp) / "inline"
                inline_runs.append(_fit(x, y, _watchers(out, x_test, y_test), epochs))
            finally:
                del os.environ["CONVWATCH_BACKGROUND"]
    m_plain, m_watched = (_peak_memory(epochs, n, watch) for watch in (False, True))
    spread = f" (pairs {min(ratios):.2f}x to {max(ratios):.2f}x)" if pairs > 1 else ""
    print(
        f"{epochs} epochs x {n:,} {source} images: fit + 4 captures "
        f"{statistics.median(ratios):.2f}x plain fit, median of {pairs} pairs{spread}; "
        f"{statistics.median(watched):.2f} s vs {statistics.median(plain):.2f} s; peak memory "
        f"{m_watched:.0f} MiB vs {m_plain:.0f} MiB (+{m_watched - m_plain:.0f} MiB); {files} "
        "files written, all complete when fit returned",
        flush=True,
    )
    if inline_runs:
        t_inline = inline_runs[0]
        print(
            f"  the same with the captures' work inline (CONVWATCH_BACKGROUND=0): "
            f"{t_inline / statistics.median(plain):.2f}x ({t_inline:.2f} s)",
            flush=True,
        )


def _peak_memory(epochs: int, n: int, watch: bool) -> float:
    """Peak resident MiB of a fresh process that loads the data and runs one fit."""
    args = [sys.executable, __file__, "--peak-memory", str(epochs), str(n), str(int(watch))]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def _one_fit_peak(epochs: int, n: int, watch: bool) -> None:
    x, y, x_test, y_test, _ = _data(n)
    reset_peak()  # the peak of the fit, not of loading the data before it
    with tempfile.TemporaryDirectory() as tmp:
        _fit(x, y, _watchers(Path(tmp), x_test, y_test) if watch else [], epochs)
    print(peak_mib())


def main() -> None:
    x, y, x_test, y_test, _ = _data(1000)
    with tempfile.TemporaryDirectory() as tmp:  # warm up TensorFlow and the captures
        _fit(x, y, [], 1)
        _fit(x, y, _watchers(Path(tmp), x_test, y_test), 1)
    _compare(epochs=2, n=10_000, pairs=5, inline=True)
    _keras_io_comparison()
    _compare(epochs=5, n=60_000, pairs=3, inline=False)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peak-memory"]:
        _one_fit_peak(int(sys.argv[2]), int(sys.argv[3]), bool(int(sys.argv[4])))
    else:
        main()
