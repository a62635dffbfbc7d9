"""LayerShapes writes the shape table and the conv arithmetic check once, at train begin."""

from __future__ import annotations

import logging

from convwatch.base.atomic import read_csv
from convwatch.callbacks import LayerShapes


def test_writes_shapes_and_arithmetic(seq, data, tmp_path, caplog):
    x, y = data
    with caplog.at_level(logging.INFO, logger="convwatch.callbacks.layer_shapes"):
        seq.fit(x, y, epochs=1, verbose=0, callbacks=[LayerShapes(out_dir=tmp_path)])
    rows = read_csv(tmp_path / "layer_shapes.csv")
    assert [r["layer"] for r in rows] == ["conv", "pool", "flatten", "hidden", "predictions"]
    assert rows[0]["output_shape"] == "(None, 10, 10, 4)"
    checks = read_csv(tmp_path / "conv_arithmetic.csv")
    assert {c["agree"] for c in checks} == {"True"}
    assert "block" not in (tmp_path / "layer_shapes.txt").read_text()
    assert "(None, 5, 5, 4)" in caplog.text  # the table, logged (verbose=1 by default)


def test_quiet_logs_nothing(seq, data, tmp_path, caplog):
    x, y = data
    with caplog.at_level(logging.INFO, logger="convwatch.callbacks.layer_shapes"):
        seq.fit(x, y, epochs=1, verbose=0, callbacks=[LayerShapes(out_dir=tmp_path, verbose=0)])
    assert caplog.text == "" and (tmp_path / "layer_shapes.csv").is_file()
