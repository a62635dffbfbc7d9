"""WeightRange logs each kernel's smallest and largest weight as training goes."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.base.atomic import read_csv
from convwatch.callbacks import WeightRange


def test_weight_range_tracks_min_max_and_the_largest_seen(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).uniform(0, 255, (1, 8, 8, 3)).astype("float32")
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(3, 3, name="conv")])
    model.compile(keras.optimizers.Adam(1.0), "mse")
    callback = WeightRange(every_n_steps=1, every_n_epochs=0, out_dir=tmp_path)
    model.fit(x, x[:, 1:-1, 1:-1], epochs=2, verbose=0, callbacks=[callback])
    rows = read_csv(tmp_path / "weight_range.csv")
    assert [r["tag"] for r in rows] == ["epoch000", "step000001", "step000002"]
    kernel = np.asarray(model.get_layer("conv").kernel)
    metrics = callback.final_metrics()
    assert metrics["conv_kernel_min"] == pytest.approx(float(kernel.min()))
    assert metrics["conv_kernel_max"] == pytest.approx(float(kernel.max()))
    # Adam at 1.0 moves every weight by about 1 on its first step: far past the initial range
    seen = max(max(abs(float(r["min"])), abs(float(r["max"]))) for r in rows)
    assert metrics["conv_kernel_absmax_seen"] == pytest.approx(seen) and seen > 1.0


def test_a_layer_without_kernel_is_refused(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.1, name="drop")])
    callback = WeightRange(layers=["drop"], out_dir=tmp_path)
    callback.set_model(model)
    with pytest.raises(ValueError, match="'drop' has none"):
        callback.on_train_begin()
