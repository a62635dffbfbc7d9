"""PixelTracker records chosen output pixels every step and computes steps-to-target and peak."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from convwatch.base.atomic import read_csv, read_json
from convwatch.callbacks import PixelTracker
from tests.arrays import numpy


def scaler():
    """Output = kernel scale * input (a 1x1 conv with identity kernel): its pixels are known."""

    model = keras.Sequential(
        [keras.Input((4, 4, 3)), keras.layers.Conv2D(3, 1, use_bias=False, name="conv")]
    )
    model.compile("sgd", "mse")
    return model


def set_scale(model, scale):
    model.get_layer("conv").kernel.assign(np.eye(3, dtype="float32")[None, None] * scale)


PROBE = np.zeros((1, 4, 4, 3), np.float32)
PROBE[0, 1, 2] = (255.0, 10.0, 0.0)  # the tracked pixel


def test_steps_to_target_and_peak_on_a_hand_made_run(tmp_path):
    model = scaler()
    tracker = PixelTracker(PROBE, {"spot": (1, 2)}, target=(255, 10, 0), out_dir=tmp_path)
    tracker.set_model(model)
    set_scale(model, 0.5)
    tracker.on_train_begin()  # step 0: (127.5, 5, 0)
    for scale in (36.0, 0.99, 1.001, 1.2, 1.0):  # steps 1..5: explode, in, in, out, in
        set_scale(model, scale)
        tracker.on_train_batch_end(0)
    tracker.on_train_end()

    rows = read_csv(tmp_path / "spot.csv")
    assert [int(r["step"]) for r in rows] == [0, 1, 2, 3, 4, 5]
    assert [float(r["r"]) for r in rows] == pytest.approx([127.5, 9180, 252.45, 255.255, 306, 255])
    figures = tracker.final_metrics()
    # step 2: R 252.45 is 2.55 away, outside ±2; step 3 is the first with every channel inside
    assert figures["pixel_spot_steps_to_target"] == 3
    assert figures["pixel_spot_settled_step"] == 5  # step 4 (R 306) left the band
    assert (
        figures["pixel_spot_peak_r"] == pytest.approx(9180) and figures["pixel_spot_peak_step"] == 1
    )
    assert (figures["pixel_spot_r"], figures["pixel_spot_g"]) == pytest.approx((255, 10))
    saved = read_json(tmp_path / "pixel_tracker.json")["spot"]
    assert saved["pixel"] == [1, 2] and saved["target"] == [255, 10, 0]
    assert (tmp_path / "spot.png").stat().st_size > 1000


def test_records_during_fit_from_the_untrained_state(tmp_path):
    model = scaler()
    set_scale(model, 0.1)
    target = PROBE[0]  # a target image: each pixel's own target is read from it
    tracker = PixelTracker(PROBE, (1, 2), target=target, out_dir=tmp_path)
    model.fit(PROBE, PROBE, epochs=3, verbose=0, callbacks=[tracker])
    rows = read_csv(tmp_path / "pixel.csv")
    assert len(rows) == 4 and float(rows[0]["r"]) == pytest.approx(25.5)  # before any step
    last = numpy(model(PROBE))[0, 1, 2, 0]
    assert float(rows[-1]["r"]) == pytest.approx(float(last), rel=1e-5)
    assert read_json(tmp_path / "pixel_tracker.json")["pixel"]["target"] == [255, 10, 0]


def test_every_output_of_a_two_output_model_or_one_layer(tmp_path):

    inputs = keras.Input((4, 4, 3))
    a = keras.layers.Conv2D(3, 1, name="a")(inputs)
    b = keras.layers.Conv2D(2, 1, name="b")(inputs)
    model = keras.Model(inputs, [a, b])
    both = PixelTracker(PROBE, {"p": (0, 0)}, out_dir=tmp_path / "both")
    both.set_model(model)
    both.on_train_begin()
    both.on_train_end()
    assert sorted(p.name for p in (tmp_path / "both").glob("*.csv")) == ["a_p.csv", "b_p.csv"]
    assert list(read_csv(tmp_path / "both" / "b_p.csv")[0]) == ["step", "c0", "c1"]
    layer = PixelTracker(PROBE, {"p": (0, 0)}, output="b", out_dir=tmp_path / "layer")
    layer.set_model(model)
    layer.on_train_begin()
    layer.on_train_end()
    assert "pixel_p_c1" in layer.final_metrics() and "pixel_p_steps_to_target" not in (
        layer.final_metrics()
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"probe": np.zeros((2, 4, 4, 3)), "pixels": (0, 0)}, "one image"),
        ({"probe": PROBE, "pixels": {"far": (4, 0)}}, "inside 4x4"),
        ({"probe": PROBE, "pixels": (0, 0), "tolerance": -1}, "tolerance"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PixelTracker(**kwargs)
