"""Occlusion of one 28x28 image (4x4 patch, stride 1: 625 positions): batched vs per position.

`occlusion_map` makes and predicts all patched copies in one compiled graph call; the plain
reference calls `model.predict` once per patch position (the loop of most tutorials). Both on
the Fashion-MNIST CNN (random weights: the cost does not depend on them), in this process,
warmed up first; prints the ratio (the bar is 10x).
"""

from __future__ import annotations

import time

import numpy as np


def _per_position(model, image, label, patch=4, stride=1, fill=0.0):
    """The reference: one predict call per patch position, heat map averaged like ours."""
    h, w = image.shape[:2]
    clean = model.predict(image[None], verbose=0)[0, label]
    total, count = np.zeros((h, w)), np.zeros((h, w))
    for top in range(0, h - patch + 1, stride):
        for left in range(0, w - patch + 1, stride):
            patched = image.copy()
            patched[top : top + patch, left : left + patch] = fill
            drop = clean - model.predict(patched[None], verbose=0)[0, label]
            total[top : top + patch, left : left + patch] += drop
            count[top : top + patch, left : left + patch] += 1
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    import keras

    from convwatch.models import fashion_cnn
    from convwatch.techniques import occlusion_map

    keras.utils.set_random_seed(0)
    model = fashion_cnn()
    image = np.random.default_rng(0).random((28, 28, 1), dtype=np.float32)
    label = 3
    batched = occlusion_map(model, image[None], [label], patch=4, stride=1)  # warm up (trace)
    reference = _per_position(model, image, label)
    # The two agree (up to float32 rounding of different batch sizes).
    error = float(np.abs(batched[0] - reference).max())
    fast = _best(lambda: occlusion_map(model, image[None], [label], patch=4, stride=1), 5)
    slow = _best(lambda: _per_position(model, image, label), 1)
    print(
        f"occlusion 28x28, 4x4 patch, stride 1 (625 positions): batched {fast * 1e3:.1f} ms, "
        f"one predict per position {slow * 1e3:.0f} ms -> {slow / fast:.0f}x faster "
        f"(bar: 10x); max |difference| {error:.2g}"
    )


if __name__ == "__main__":
    main()
