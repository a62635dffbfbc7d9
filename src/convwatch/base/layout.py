"""The run folder as a protocol: the names of its files, and the file stem of a layer capture.

A run folder is `<results>/<experiment>/<YYYYmmdd-HHMMSS>-<config hash>/` (see DESIGN.md): the
runner writes these files, the readers in `convwatch.report` read them, and a capture's files
live under `artifacts/<capture name>/`, named after the layer (`backbone/conv1` becomes
`backbone__conv1`)."""

from __future__ import annotations

import re

RUN_JSON = "run.json"
CONFIG_JSON = "config.json"
HISTORY_CSV = "history.csv"
METRICS_JSON = "metrics.json"
SUMMARY_TXT = "summary.txt"
MODEL_FILE = "model.keras"
CHECKPOINT_FILE = "checkpoint.keras"  # the last saved epoch's model and optimizer, for resume
TENSORBOARD_DIR = "tensorboard"
ARTIFACTS_DIR = "artifacts"
SWEEP_JSON = "sweep.json"  # in a sweep folder: its points and the run folder of each


def file_stem(layer: str) -> str:
    """A layer name made safe as a file name (and an NPZ key)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", layer.replace("/", "__")).strip("._") or "layer"
