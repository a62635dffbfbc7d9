"""Benchmark: the batched filter atlas against the keras.io per-filter loop, in one process.

The reference is the loop of keras.io's "Visualizing what convnets learn" (fchollet, 2020): a
feature-extractor sub-model, a `@tf.function` gradient-ascent step called `steps` times per
filter from Python, one filter at a time: the ascent alone. Ours is the whole atlas of a layer:
`top_exemplars` over 5,000 images (the probe set, the exemplars, the dead filters), then
`maximize_filters` of every filter with those exemplars as targets (ascent and the faintest
picture that reaches them), as `FilterMaximization` runs it. Both run on the untrained
30/15-filter MNIST net (timing does not depend on the weights), are warmed up first (the first
call compiles), and are timed over a few interleaved repeats (so both see the same machine
load); the best time of each is compared. The ascent alone is reported too.

Run: .venv/bin/python bench/bench_maximize.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

STEPS = 30  # keras.io's iterations
LEARNING_RATE = 10.0  # keras.io's learning rate
REPEATS = 5  # best of 5: this is a shared 2-core CPU box, single runs are noisy
PROBE_IMAGES = 5000  # the probe set the atlas searches for exemplars


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


def one_forward_pass(model, layer_name, images, batch_size=1024):
    """A compiled forward pass of `images` to the layer's output, reduced to one number per
    image and filter: what any exemplar search must compute at least."""
    import keras
    import tensorflow as tf

    extractor = keras.Model(model.inputs, model.get_layer(layer_name).output)
    spec = tf.TensorSpec((None, *images.shape[1:]), tf.float32)
    peak = tf.function(lambda x: tf.reduce_max(extractor(x), axis=[1, 2]), input_signature=[spec])

    def run():
        return [peak(images[i : i + batch_size]).numpy() for i in range(0, len(images), batch_size)]

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
    import numpy as np

    from convwatch.models import larger_cnn
    from convwatch.techniques import maximize_filters, top_exemplars

    keras.utils.set_random_seed(0)
    model = larger_cnn()
    probe = np.random.default_rng(0).random((PROBE_IMAGES, 28, 28, 1), dtype=np.float32)
    for layer_name, n_filters in (("conv2", 15), ("conv1", 30)):

        def atlas(layer_name=layer_name):
            exemplars = top_exemplars(model, layer_name, probe)
            target = exemplars.activation[:, 0]
            return maximize_filters(model, layer_name, target=target, steps=STEPS)

        def ascent(layer_name=layer_name):
            return maximize_filters(model, layer_name, steps=STEPS)

        forward = one_forward_pass(model, layer_name, probe)
        reference = keras_io_loop(model, layer_name, range(n_filters))
        atlas(), ascent(), forward(), reference()  # warm-up: the first calls trace and compile
        t_atlas, t_ascent, t_forward, t_ref = best_times([atlas, ascent, forward, reference])
        print(
            f"filter atlas {layer_name} ({n_filters} filters, {STEPS} steps, exemplars over "
            f"{PROBE_IMAGES:,} images): {t_ref / t_atlas:.1f}x faster than the keras.io loop "
            f"for the ascent alone ({t_atlas:.3f} s vs {t_ref:.3f} s); the ascent alone "
            f"{t_ref / t_ascent:.1f}x ({t_ascent:.3f} s); one plain forward pass of the "
            f"{PROBE_IMAGES:,} images to {layer_name}, the floor of any exemplar search, "
            f"{t_forward:.3f} s ({t_ref / t_forward:.1f}x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
