"""OutputEvolution plays an image model's outputs back as a GIF, side by side when several."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PIL import Image

from convwatch.base.atomic import read_csv, read_npz
from convwatch.callbacks import OutputEvolution
from tests.arrays import numpy

X = np.random.default_rng(0).uniform(0, 255, (1, 8, 8, 3)).astype("float32")


def image_model(outputs=1):

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    heads = [
        keras.layers.Conv2D(3, 3, padding="same", name=f"head{i}")(inputs) for i in range(outputs)
    ]
    model = keras.Model(inputs, heads if outputs > 1 else heads[0])
    model.compile(keras.optimizers.Adam(1.0), "mse")  # large steps: every frame differs
    return model


def frames(path):
    with Image.open(path) as gif:
        out = []
        for i in range(gif.n_frames):
            gif.seek(i)
            out.append(np.asarray(gif.convert("RGB")).copy())
    return out


def test_gif_pngs_and_arrays_of_a_short_run(tmp_path):
    model = image_model()
    callback = OutputEvolution(X, target=X[0], every_n_steps=1, out_dir=tmp_path)
    model.fit(X, X, epochs=3, verbose=0, callbacks=[callback])
    shown = frames(tmp_path / "output.gif")
    assert len(shown) == 4 and len({f.tobytes() for f in shown}) == 4  # it animates
    saved = read_npz(tmp_path / "outputs.npz")
    assert saved["images"].shape == (4, 1, 8, 8, 3)
    assert saved["tags"].tolist() == ["epoch000", "step000001", "step000002", "step000003"]
    np.testing.assert_allclose(saved["images"][-1, 0], numpy(model(X))[0], rtol=1e-5)
    for name in ("input.png", "target.png", "output_epoch000.png", "output_step000003.png"):
        assert (tmp_path / name).exists()
    ranges = read_csv(tmp_path / "output_range.csv")
    assert len(ranges) == 4 and float(ranges[-1]["max"]) == pytest.approx(
        float(numpy(model(X)).max()), rel=1e-5
    )
    assert callback.final_metrics()["output_max"] == pytest.approx(float(ranges[-1]["max"]))


def test_the_last_step_is_captured_and_outputs_sit_side_by_side(tmp_path):
    model = image_model(outputs=2)
    callback = OutputEvolution(X, every_n_steps=10, size=None, out_dir=tmp_path)
    model.fit(X, (X, X), epochs=3, verbose=0, callbacks=[callback])
    shown = frames(tmp_path / "output.gif")
    assert len(shown) == 2  # train begin, and the final state although 3 < 10
    assert shown[0].shape[1] == 2 * 8 + 2  # two 8-px outputs with a 2-px gap
    assert set(callback.final_metrics()) == {
        "head0_output_min",
        "head0_output_max",
        "head1_output_min",
        "head1_output_max",
    }


def test_untrained_model_gets_pngs_but_no_gif(tmp_path):
    model = image_model()
    model.fit(X, X, epochs=0, verbose=0, callbacks=[OutputEvolution(X, out_dir=tmp_path)])
    assert (tmp_path / "output_epoch000.png").exists() and not (tmp_path / "output.gif").exists()
