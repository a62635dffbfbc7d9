"""t-SNE of penultimate-layer vectors: convwatch's (openTSNE) vs scikit-learn's TSNE, side by side.

The 30/15-filter net is trained for one epoch, then the 50-unit `dense2` outputs of 1,000,
5,000 and 10,000 test images are embedded by both (scikit-learn with its default settings).
Each line gives both times and both maps' trustworthiness (1.0 = every map neighbour is a true
neighbour, k = 10), so speed is never bought with a worse map. Then one more epoch, and the
1,000-point map is made again from the new features twice: from scratch, and started from the
epoch-1 map (`initial=`, what EmbeddingProjector does every epoch so that its maps line up).
scikit-learn at 10,000 points is skipped where it would take the run past about 3 minutes.
"""

from __future__ import annotations

import time

import numpy as np

SIZES = (1000, 5000, 10_000)
BUDGET_S = 170.0  # the whole bench, scikit-learn at 10,000 included only if it fits
K = 10


def _data():
    import keras

    from convwatch.data import load_dataset
    from convwatch.errors import DataError
    from convwatch.models import larger_cnn

    try:
        d = load_dataset("fashion_mnist", limit=10_000, test_limit=max(SIZES))
        source = "Fashion-MNIST"
    except DataError:
        d, source = load_dataset("mnist"), "offline MNIST subset"
    keras.utils.set_random_seed(0)
    model = larger_cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    images = np.concatenate([d.x_test, d.x_train])[: max(SIZES)] / 255.0
    return model, d.x_train / 255.0, d.y_train, images, source


def _features(model, images) -> np.ndarray:
    from convwatch.techniques import layer_outputs

    return layer_outputs(model, images, ["dense2"])["dense2"]


def trustworthiness(x: np.ndarray, y: np.ndarray, k: int = K) -> float:
    """scikit-learn's `trustworthiness(x, y, n_neighbors=k)`, computed by blocks of rows
    without its n x n rank matrix (10,000 points: 0.8 GB and a minute otherwise)."""
    from sklearn.neighbors import NearestNeighbors

    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    mapped = NearestNeighbors(n_neighbors=k).fit(y).kneighbors(return_distance=False)
    squared = (x * x).sum(1)
    penalty = 0.0
    for start in range(0, n, 500):
        rows = np.arange(start, min(start + 500, n))
        d = squared[rows, None] + squared[None, :] - 2.0 * x[rows] @ x.T
        d[np.arange(len(rows)), rows] = np.inf  # a point is not its own neighbour
        near = np.take_along_axis(d, mapped[rows], 1)  # (rows, k): to each map neighbour
        rank = (d[:, None, :] < near[:, :, None]).sum(-1) + 1  # 1 = the nearest in x
        penalty += np.maximum(rank - k, 0).sum()
    return 1.0 - penalty * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0))


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    from sklearn.manifold import TSNE

    from convwatch.techniques.tsne import tsne

    began = time.perf_counter()
    model, x_train, y_train, images, source = _data()
    model.fit(x_train, y_train, epochs=1, batch_size=100, verbose=0)
    features = _features(model, images)
    sizes = [n for n in SIZES if n <= len(features)]
    print(f"t-SNE of dense2 vectors of larger_cnn after 1 epoch ({source}); trustworthiness k={K}")
    print(
        f"{'points':>7}  {'openTSNE':>9} {'trust':>6}  {'scikit-learn':>12} {'trust':>6}  speed-up"
    )
    maps, sklearn_s = {}, {}
    for n in sizes:
        x = features[:n]
        ours, ours_s = _timed(tsne, x)
        maps[n] = ours
        estimate = 2.3 * sklearn_s.get(n // 2, 0.0)  # n log n, from the size half as big
        if n >= 10_000 and time.perf_counter() - began + estimate > BUDGET_S:
            print(
                f"{n:>7,}  {ours_s:>8.1f}s {trustworthiness(x, ours):>6.3f}  "
                f"{'skipped':>12} {'':>6}  (scikit-learn would take ~{estimate:.0f} s more)"
            )
            continue
        theirs, sklearn_s[n] = _timed(TSNE(random_state=0).fit_transform, x)
        print(
            f"{n:>7,}  {ours_s:>8.1f}s {trustworthiness(x, ours):>6.3f}  "
            f"{sklearn_s[n]:>11.1f}s {trustworthiness(x, theirs):>6.3f}  "
            f"{sklearn_s[n] / ours_s:>6.1f}x"
        )
    model.fit(x_train, y_train, epochs=1, batch_size=100, verbose=0)
    after = _features(model, images[:1000])
    full, full_s = _timed(tsne, after)
    aligned, aligned_s = _timed(tsne, after, initial=maps[1000])
    moved = np.linalg.norm(aligned - maps[1000], axis=1).mean() / np.ptp(maps[1000], 0).max()
    print(
        f"1,000 points after epoch 2: from scratch {full_s:.2f} s (trust "
        f"{trustworthiness(after, full):.3f}); from the epoch-1 map {aligned_s:.2f} s (trust "
        f"{trustworthiness(after, aligned):.3f}), points moved {moved:.1%} of the map's extent"
    )
    print(f"bench took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
