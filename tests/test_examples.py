"""The notebooks in examples/ run from top to bottom in a real kernel (with their quick settings)
and show what they promise inline: the captures' pictures, live updates during fit, a run and a
sweep shown by `convwatch.show`. They are committed without outputs."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.ipynb"))
nbclient = pytest.importorskip("nbclient", reason="the dev extra's nbclient runs the notebooks")
nbformat = pytest.importorskip("nbformat")


def test_the_examples_are_there_and_committed_without_outputs():
    assert [p.name for p in EXAMPLES] == [
        "01_watch_your_own_model.ipynb",
        "02_run_and_compare.ipynb",
        "03_inspect_a_trained_model.ipynb",
    ]
    for path in EXAMPLES:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


class _Counting(nbclient.NotebookClient):
    """Runs a notebook and counts the kernel's messages per code cell and kind."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.messages: Counter = Counter()

    def process_message(self, msg, cell, cell_index):
        self.messages[cell.source, msg["header"]["msg_type"]] += 1
        return super().process_message(msg, cell, cell_index)


def _run(path: Path, tmp_path: Path, monkeypatch, counted: Counter | None = None) -> list:
    """Execute the notebook in `tmp_path` (its files go there); its code cells, executed;
    `counted` gets the kernel's messages per (cell source, message type)."""
    monkeypatch.setenv("CONVWATCH_EXAMPLES_QUICK", "1")
    # The kernel spec's "python" is this environment's, whether or not it is activated.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    book = nbformat.read(path, as_version=4)
    client = _Counting(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    if counted is not None:
        counted.update(client.messages)
    executed = tmp_path / path.name
    nbformat.write(book, executed)
    if os.environ.get("CONVWATCH_KEEP_EXAMPLES"):  # to open the executed notebooks by hand
        nbformat.write(book, Path(os.environ["CONVWATCH_KEEP_EXAMPLES"]) / path.name)
    return [c for c in book.cells if c.cell_type == "code"]


def _html(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_watching_your_own_model_shows_the_captures_inline_and_live(tmp_path, monkeypatch):
    messages: Counter = Counter()
    cells = _run(EXAMPLES[0], tmp_path, monkeypatch, messages)
    fit = next(c for c in cells if "live(" in c.source)
    # one output, displayed once and then updated in place as the captures wrote
    assert len([o for o in fit.outputs if o.output_type == "display_data"]) == 1
    assert messages[fit.source, "display_data"] == 1
    updates = messages[fit.source, "update_display_data"]
    assert updates >= 2  # at least once during the epochs, and once when training ended
    assert f"drawn {updates + 1} times" in _text(fit)  # LiveDisplay counted the same
    # the one output holds every capture's last pictures once training ended
    assert _html(fit).count("<img src='data:image/") >= 4 and "FilterMaximization" in _html(fit)
    atlas = next(c for c in cells if c.source.strip() == "atlas")
    assert "data:image/png;base64," in _html(atlas) and "epoch" in _html(atlas)
    assert "EmbeddingProjector" in _html(next(c for c in cells if c.source.strip() == "embedding"))
    assert (tmp_path / "my_run" / "atlas").is_dir()


def test_running_and_comparing_shows_a_run_and_the_sweep(tmp_path, monkeypatch):
    cells = _run(EXAMPLES[1], tmp_path, monkeypatch)
    run = next(c for c in cells if "convwatch.show(runs[0])" in c.source)
    assert "mnist_larger_cnn" in _html(run) and "data:image/" in _html(run)
    sweep = next(c for c in cells if c.source.strip() == "convwatch.show(sweep)")
    assert "What the networks learned" in _html(sweep) and "seed" in _html(sweep)
    assert (tmp_path / "results" / "compare.html").is_file()


def test_inspecting_a_trained_model_draws_its_maps(tmp_path, monkeypatch):
    cells = _run(EXAMPLES[2], tmp_path, monkeypatch)
    last = cells[-1]
    assert sum("image/png" in o.get("data", {}) for o in last.outputs) == 3
    for name in ("saliency", "occlusion", "grad_cam"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
