"""t-SNE of penultimate-layer vectors: convwatch's compiled exact t-SNE vs scikit-learn's TSNE.

The 30/15-filter net is trained for one epoch, then the 50-unit `dense2` outputs of 1,000 and
5,000 images are embedded by both (scikit-learn with default settings). Prints the time ratio
and each map's trustworthiness (1.0 = every map neighbour is a true neighbour), so speed is
never bought with a worse map. `embed(method="tsne")` uses the compiled one up to
`DENSE_LIMIT` points and scikit-learn above it; this prints where that line pays off.
"""

from __future__ import annotations

import time

import numpy as np


def _features(n: int = 5000) -> tuple[np.ndarray, str]:
    import keras

    from convwatch.data import load_dataset
    from convwatch.errors import DataError
    from convwatch.models import larger_cnn
    from convwatch.techniques import layer_outputs

    try:
        d, source = load_dataset("fashion_mnist", limit=10_000, test_limit=n), "Fashion-MNIST"
    except DataError:
        d, source = load_dataset("mnist"), "offline MNIST subset"
    keras.utils.set_random_seed(0)
    model = larger_cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(d.x_train / 255.0, d.y_train, epochs=1, batch_size=100, verbose=0)
    images = np.concatenate([d.x_test, d.x_train])[:n] / 255.0
    return layer_outputs(model, images, ["dense2"])["dense2"], source


def main() -> None:
    from sklearn.manifold import TSNE, trustworthiness

    from convwatch.techniques.embed import DENSE_LIMIT
    from convwatch.techniques.tsne import tsne

    features, source = _features()
    tsne(features[:200])  # compile once
    for n in (1000, 5000):
        x = features[:n]
        start = time.perf_counter()
        ours = tsne(x)
        t_ours = time.perf_counter() - start
        start = time.perf_counter()
        theirs = TSNE().fit_transform(x)
        t_sk = time.perf_counter() - start
        trust = [trustworthiness(x, y, n_neighbors=10) for y in (ours, theirs)]
        used = "compiled" if n <= DENSE_LIMIT else "scikit-learn"
        print(
            f"t-SNE of {n:,} penultimate vectors ({source}): compiled exact {t_sk / t_ours:.2f}x "
            f"the speed of scikit-learn TSNE ({t_ours:.1f} s vs {t_sk:.1f} s; trustworthiness "
            f"{trust[0]:.3f} vs {trust[1]:.3f}); embed() uses {used} here"
        )


if __name__ == "__main__":
    main()
