"""Every technique's maps for one fixed model, on whichever Keras backend this process runs.

Imported by tests/techniques/test_across_backends.py for the in-process backend, and run as a
script (`python backend_maps.py weights.npz out.npz`) under another `KERAS_BACKEND` for the same
weights and images.
"""

from __future__ import annotations

import sys

import keras
import numpy as np
from keras import layers

SHAPE = (12, 12, 1)


def model() -> keras.Model:
    """A small conv net with what the techniques treat specially: conv, ReLU, pooling, softmax."""
    return keras.Sequential(
        [
            keras.Input(SHAPE),
            layers.Conv2D(6, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(8, 3, activation="relu", name="conv2"),
            layers.Flatten(name="flatten"),
            layers.Dense(16, name="dense"),
            layers.ReLU(name="relu"),
            layers.Dense(3, activation="softmax", name="predictions"),
        ],
        name="across_backends",
    )


def maps(net: keras.Model, images: np.ndarray) -> dict[str, np.ndarray]:
    """The techniques' outputs for `images`, by name."""
    from convwatch import techniques as t

    return {
        "saliency": t.saliency_map(net, images),
        "smoothgrad": t.saliency_map(net, images, smooth_samples=6, seed=3),
        "grad_cam": t.grad_cam(net, images, layer="conv2"),
        "guided_backprop": t.guided_backprop(net, images),
        "occlusion": t.occlusion_map(net, images, patch=3),
        # one picture per filter: 6 of conv1 (no blur at 3x3), 8 of conv2 (blurred, 8x8 field)
        "maximize_conv1": t.maximize_filters(net, "conv1", steps=10),
        "maximize_conv2": t.maximize_filters(net, "conv2", steps=10, jitter=1),
        "exemplars": t.top_exemplars(net, "conv2", images, k=3).patches,  # (F, k, h, w, C)
        "deep_dream": t.deep_dream(net, images, "conv2", octaves=2, steps=5, step_size=0.05),
        "style_transfer": t.style_transfer(
            net, images[0], images[1], "conv2", ["conv1", "conv2"], steps=10, pad=2
        ).image[None],
    }


def main(weights_path: str, out_path: str) -> None:
    with np.load(weights_path) as saved:
        net = model()
        net.set_weights([saved[f"w{i}"] for i in range(len(net.weights))])
        images = saved["images"]
    np.savez(out_path, backend=keras.backend.backend(), **maps(net, images))


if __name__ == "__main__":
    main(*sys.argv[1:3])
