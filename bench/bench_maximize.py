"""Benchmark: batched `maximize_filters` against the keras.io per-filter loop, in one process.

The reference is the loop of keras.io's "Visualizing what convnets learn" (fchollet, 2020): a
feature-extractor sub-model, a `@tf.function` gradient-ascent step called `steps` times per
filter from Python, one filter at a time. Both run on the untrained 30/15-filter MNIST net
(timing does not depend on the weights), are warmed up first (the first call compiles), and
are timed over a few interleaved repeats (so both see the same machine load); the best time
of each is compared.

Run: .venv/bin/python bench/bench_maximize.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

STEPS = 30  # keras.io's iterations
LEARNING_RATE = 10.0  # keras.io's learning rate
REPEATS = 5  # best of 5: this is a shared 2-core CPU box, single runs are noisy


def keras_io_loop(model, layer_name, filter_indices, steps=STEPS, learning_rate=LEARNING_RATE):
    """keras.io's visualize_filter, one filter at a time, as in the example (minus the crop)."""
    import keras
    import numpy as np
    import tensorflow as tf

    layer = model.get_layer(name=layer_name)
    feature_extractor = keras.Model(inputs=model.inputs, outputs=layer.output)
    height, width, channels = model.inputs[0].shape[1:]

    def compute_loss(input_image, filter_index):
        activation = feature_extractor(input_image)
        # We avoid border artifacts by only involving non-border pixels in the loss.
        filter_activation = activation[:, 2:-2, 2:-2, filter_index]
        return tf.reduce_mean(filter_activation)

    @tf.function
    def gradient_ascent_step(img, filter_index, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(img)
            loss = compute_loss(img, filter_index)
        grads = tape.gradient(loss, img)
        grads = tf.math.l2_normalize(grads)
        img += learning_rate * grads
        return loss, img

    def initialize_image():
        img = tf.random.uniform((1, height, width, channels))
        return 0.5 + (img - 0.5) * 0.25  # grey noise around 0.5: our inputs are in [0, 1]

    def deprocess_image(img):
        img -= img.mean()
        img /= img.std() + 1e-5
        img *= 0.15
        img += 0.5
        return np.clip(img, 0, 1)

    def visualize_filter(filter_index):
        img = initialize_image()
        for _ in range(steps):
            loss, img = gradient_ascent_step(img, filter_index, learning_rate)
        return loss, deprocess_image(img[0].numpy())

    def run():
        return np.stack([visualize_filter(f)[1] for f in filter_indices])

    return run


def best_times(fns, repeats=REPEATS) -> list[float]:
    """Best wall time of each of `fns` (already warmed up), calls interleaved."""
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, samples in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    return [min(samples) for samples in times]


def main() -> int:
    import keras

    from convwatch.models import larger_cnn
    from convwatch.techniques import maximize_filters

    keras.utils.set_random_seed(0)
    model = larger_cnn()
    for layer_name, n_filters in (("conv2", 15), ("conv1", 30)):

        def ours(layer_name=layer_name):
            return maximize_filters(model, layer_name, steps=STEPS, learning_rate=LEARNING_RATE)

        reference = keras_io_loop(model, layer_name, range(n_filters))
        ours(), reference()  # warm-up: the first calls trace and compile
        t_ours, t_ref = best_times([ours, reference])
        print(
            f"maximize_filters {layer_name} ({n_filters} filters, {STEPS} steps): "
            f"{t_ref / t_ours:.1f}x faster than the keras.io loop "
            f"({t_ours:.3f} s vs {t_ref:.3f} s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
