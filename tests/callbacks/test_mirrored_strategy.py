"""Every capture callback works on a model trained under tf.distribute.MirroredStrategy.

Logical devices must be set before TensorFlow starts, so the check runs in a fresh process
with two logical CPU devices.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import pytest

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="tf.distribute is TensorFlow's"
)

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import keras

    from convwatch.callbacks import (
        ActivationCapture, EmbeddingProjector, FilterEvolution, FilterMaximization,
    )

    out = Path(sys.argv[1])
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        model = keras.Sequential([
            keras.Input(shape=(12, 12, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Flatten(),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, activation="softmax"),
        ])
        model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 12, 12, 1), dtype=np.float32), rng.integers(0, 3, 32)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[
        ActivationCapture(x[:4], out_dir=out / "act"),
        FilterEvolution(probe=x[:1], out_dir=out / "evo"),
        FilterMaximization(x, steps=3, out_dir=out / "max"),
        EmbeddingProjector(x, y, out_dir=out / "emb"),
    ])
    print("OK")
    """
)


def test_callbacks_under_mirrored_strategy(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("OK")
    expected = [
        "act/activations_epoch002.npz",
        "act/conv_epoch002.png",
        "evo/conv_kernels.npz",
        "evo/conv_filters.gif",
        "evo/conv_feature_maps.gif",
        "max/conv.gif",
        "max/conv_epoch002.png",
        "emb/tsne_epoch002.csv",
        "emb/pca_epoch002.png",
        "emb/projector/vectors.tsv",
    ]
    missing = [name for name in expected if not (tmp_path / name).is_file()]
    assert not missing
