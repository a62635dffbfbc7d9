"""Cost of watching: `fit` with the four capture callbacks at default schedules vs plain `fit`.

The 30/15-filter net, 2 epochs over 10,000 images (Fashion-MNIST when installed, else the
offline MNIST subset repeated to 10,000), batch 100. Both runs in this process, the same
seed, warmed up first; prints the ratio, what each callback adds on its own, the peak memory
growth over a longer watched run, and the ratio at a real run's length (5 epochs, 60,000).
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import numpy as np


def _data(n: int = 10_000):
    from convwatch.data import load_dataset
    from convwatch.errors import DataError

    try:
        d = load_dataset("fashion_mnist", limit=n, test_limit=1000)
        source = "Fashion-MNIST"
    except DataError:
        d = load_dataset("mnist")
        source = "offline MNIST subset, repeated"
    reps = int(np.ceil(n / len(d.x_train)))
    x = np.concatenate([d.x_train] * reps)[:n].astype("float32") / 255
    y = np.concatenate([d.y_train] * reps)[:n]
    return x, y, d.x_test.astype("float32") / 255, d.y_test, source


def _fit(x, y, callbacks, epochs: int = 2) -> float:
    import keras

    from convwatch.models import larger_cnn

    keras.utils.set_random_seed(7)
    model = larger_cnn()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=100, verbose=0, callbacks=callbacks)
    return time.perf_counter() - start


def _watchers(out: Path, x_test, y_test):
    from convwatch.callbacks import (
        ActivationCapture,
        EmbeddingProjector,
        FilterEvolution,
        FilterMaximization,
    )

    return [
        ActivationCapture(x_test[:8], out_dir=out / "activations"),
        FilterEvolution(probe=x_test[:1], out_dir=out / "filters"),
        FilterMaximization(x_test[:2000], out_dir=out / "maximization"),  # the atlas probe set
        EmbeddingProjector(x_test[:1000], y_test[:1000], out_dir=out / "embedding"),
    ]


def main() -> None:
    x, y, x_test, y_test, source = _data()
    _fit(x[:1000], y[:1000], [], epochs=1)  # warm up TensorFlow
    with tempfile.TemporaryDirectory() as tmp:
        _fit(x[:1000], y[:1000], _watchers(Path(tmp) / "warm", x_test, y_test), epochs=1)
        plain = min(_fit(x, y, []) for _ in range(2))
        watched = min(
            _fit(x, y, _watchers(Path(tmp) / f"all{i}", x_test, y_test)) for i in range(2)
        )
        alone = {}
        for index in range(4):
            runs = [_watchers(Path(tmp) / f"one{index}-{i}", x_test, y_test)[index] for i in (0, 1)]
            alone[type(runs[0]).__name__] = min(_fit(x, y, [cb]) for cb in runs) - plain
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        _fit(x, y, _watchers(Path(tmp) / "long", x_test, y_test), epochs=6)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"fit + 4 capture callbacks vs plain fit (30/15 net, 2 epochs, 10,000 {source} "
        f"images): {watched / plain:.2f}x ({watched:.2f} s vs {plain:.2f} s)"
    )
    periodic = plain + sum(v for k, v in alone.items() if k != "EmbeddingProjector")
    print(
        f"  without the end-of-training embedding (3 per-epoch captures): {periodic / plain:.2f}x"
    )
    print(
        "  seconds each callback adds alone: "
        + ", ".join(f"{name} {cost:+.2f}" for name, cost in alone.items())
    )
    growth = (rss_after - rss_before) / 1024
    print(f"peak memory growth over a further 6-epoch watched run: {growth:.0f} MiB")
    _longer_run(source)


def _longer_run(source: str) -> None:
    """The same comparison at the length of a real run: 5 epochs over all training images."""
    x, y, x_test, y_test, _ = _data(60_000 if source == "Fashion-MNIST" else 20_000)
    with tempfile.TemporaryDirectory() as tmp:
        plain = _fit(x, y, [], epochs=5)
        watched = _fit(x, y, _watchers(Path(tmp), x_test, y_test), epochs=5)
    print(
        f"the same over 5 epochs of {len(x):,} images: {watched / plain:.2f}x "
        f"({watched:.1f} s vs {plain:.1f} s)"
    )


if __name__ == "__main__":
    main()
