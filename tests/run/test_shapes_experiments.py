"""The shapes experiments of seed document 000: figures per learning rate, sweeps, overlays."""

from __future__ import annotations

import logging

import pytest

from convwatch import Reference, load_experiment, run_experiment
from convwatch.base.atomic import read_csv, read_json
from convwatch.report.overlays import main as overlay_main


def test_a_reference_applies_only_where_its_config_matches():
    ref = Reference("m", 1.0, "m", "doc", when={"compile.optimizer.learning_rate": 1e-2})
    config = {"compile": {"optimizer": {"learning_rate": 0.01}}}
    assert ref.applies_to(config)
    assert not ref.applies_to({"compile": {"optimizer": {"learning_rate": 1.0}}})
    assert not ref.applies_to({})  # a key the config lacks never matches
    assert Reference("m", 1.0, "m", "doc").applies_to({})  # no condition: every run


def test_untrained_net_is_captured_without_fitting(tmp_path):
    path = run_experiment("shapes_untrained", results_dir=tmp_path)
    metrics = read_json(path / "metrics.json")
    assert read_json(path / "run.json")["epochs_completed"] == 0
    assert metrics["metrics"]["conv1_kernel_absmax_seen"] <= 0.1  # weights uniform in ±0.1
    assert [r["metric"] for r in metrics["references"]] == ["conv1_kernel_absmax_seen"]
    for name in (
        "OutputEvolution/input.png",
        "OutputEvolution/output_epoch000.png",
        "ActivationCapture/conv1_epoch000.png",
        "PixelTracker/red_centre.csv",
    ):
        assert (path / "artifacts" / name).exists(), name
    assert len(read_csv(path / "artifacts/PixelTracker/red_centre.csv")) == 1  # step 0 only


def test_learning_rate_sweep_prints_each_rate_its_own_figures(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="convwatch")
    sweep = run_experiment(
        "shapes_reconstruct",
        ["compile.optimizer.learning_rate=1e-4,1.0", "fit.epochs=2"],
        results_dir=tmp_path,
    )
    runs = {r["label"]: sweep / r["run"] for r in read_json(sweep / "sweep.json")["runs"]}
    slow, fast = (read_json(runs[k] / "metrics.json") for k in ("0.0001", "1.0"))
    assert [r["metric"] for r in slow["references"]] == [
        "pixel_red_centre_r",
        "pixel_red_centre_g",
        "pixel_red_centre_b",
    ]
    assert {r["reference"] for r in fast["references"]} == {210, 9175, 9200, 9199}
    # Adam's first step at 1.0 moves all 36 red taps of every filter by 1: 36 * 255 = 9180
    assert fast["metrics"]["pixel_red_centre_peak_r"] == pytest.approx(9180, rel=0.05)
    assert fast["metrics"]["pixel_red_centre_peak_step"] == 1
    assert "1.0: largest R on the way: document 9175, this run" in caplog.text
    table = read_csv(sweep / "sweep_pixels.csv")
    assert [row["run"] for row in table] == ["0.0001", "1.0"]
    assert len(read_csv(sweep / "sweep_references.csv")) == 3 + 4
    assert (sweep / "sweep_pixels_red_centre.png").exists() and (
        sweep / "sweep_losses.png"
    ).exists()

    assert overlay_main([str(tmp_path / "both"), *map(str, runs.values())]) == 0
    assert {p.name for p in (tmp_path / "both").iterdir()} == {
        "references.csv",
        "pixels.csv",
        "pixels_red_centre.png",
        "losses.png",
    }


def test_capacity_branches_are_side_by_side_outputs():
    experiment = load_experiment("shapes_capacity")
    model = experiment.build_model(**experiment.model_options())
    assert [o.shape[1:] for o in model.outputs] == [(64, 64, 3)] * 4
    convs = [layer.name for layer in model.layers if "conv" in layer.name]
    assert len(convs) == 1 + 2 + 3 + 5 and "d5_conv5" in convs
