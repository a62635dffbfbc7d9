"""`convwatch.show` and a capture's `_repr_html_`: self-contained HTML for a notebook cell (the
latest picture of each series, inlined, captioned, escaped; nothing linked), for a run, a
folder of runs, a capture folder and a capture callback."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

import convwatch
from convwatch.callbacks import Capture
from convwatch.errors import ConvwatchError
from convwatch.report.inline import MAX_WIDTH

MURAL = np.tile(np.arange(0, 240, 8, dtype=np.uint8), (30, 1))
WIDE = np.zeros((40, 2000, 3), np.uint8)


def _pictures(html: str) -> list[Image.Image]:
    found = re.findall(r"src='data:image/(?:png|gif);base64,([^']+)'", html)
    return [Image.open(io.BytesIO(base64.b64decode(data))) for data in found]


@pytest.fixture
def run(tmp_path, make_run):
    return make_run(
        tmp_path,
        experiment="odd <exp>",
        history=[{"epoch": 1, "loss": 1.0, "val_loss": 1.2}, {"epoch": 2, "loss": 0.5}],
        artifacts={
            "ActivationCapture/conv1_epoch000.png": MURAL,
            "ActivationCapture/conv1_epoch002.png": MURAL[::-1],
            "ActivationCapture/wide_epoch002.png": WIDE,
            "FilterEvolution/conv1_filters.gif": [MURAL, MURAL[::-1]],
        },
    )


def test_a_run_shows_its_latest_pictures_inline_captioned_and_escaped(run):
    shown = convwatch.show(run)
    html = shown._repr_html_()
    assert html == shown.html and "odd &lt;exp&gt;" in html and "<exp>" not in html
    assert "conv1: one probe image&#39;s feature maps, after epoch 2." in html
    assert "untrained (epoch 0)" not in html  # only the latest of the series
    assert len(_pictures(html)) == 3  # conv1 at epoch 2 only, the wide one, the GIF
    assert " href=" not in html  # nothing to follow: a saved notebook keeps all of it
    assert max(p.width for p in _pictures(html)) == MAX_WIDTH  # the 2000 px one, shrunk
    assert "<svg" in html  # the curves


def test_a_folder_of_runs_shows_their_table_and_a_capture_folder_its_pictures(run, make_run):
    make_run(run.parent.parent, experiment=run.parent.name, run_id="20260102-000000-bbbbbbb")
    html = convwatch.show(run.parent).html
    assert "Comparing 2 runs" in html and html.count("<td><span class='status") == 2
    folder = convwatch.show(run / "artifacts" / "ActivationCapture").html
    assert "ActivationCapture" in folder and len(_pictures(folder)) == 2
    assert "Feature maps" in folder  # the installed capture's own description


def test_show_refuses_what_is_not_a_folder(tmp_path):
    with pytest.raises(ConvwatchError, match="needs a run, sweep or capture folder.*no such"):
        convwatch.show(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ConvwatchError, match="a file"):
        convwatch.show(tmp_path / "file.txt")


class Painter(Capture):
    """A capture that writes one picture per epoch, described as the built-in ones are."""

    group = "Squares, one per epoch."
    captions = ((r"square_{tag}\.png", "a square, {tag}"),)

    def capture(self, tag, epoch, step):
        from convwatch.base import atomic

        atomic.write_png(self.path(f"square_{tag}.png"), np.full((8, 8), 40 * epoch, np.uint8))


def test_a_capture_shows_its_latest_picture_with_its_caption(tmp_path):
    painter = Painter(out_dir=tmp_path / "painted")
    assert "Nothing drawn yet" in painter._repr_html_()
    for epoch in range(3):
        painter.capture(f"epoch{epoch:03d}", epoch, 0)
    html = painter._repr_html_()
    assert "Painter" in html and "Squares, one per epoch." in html
    assert "a square, after epoch 2" in html and len(_pictures(html)) == 1
