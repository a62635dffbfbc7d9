"""PartialOutputs writes one image's maps after each stage side by side, and the raw maps."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convwatch.callbacks import PartialOutputs


def test_captures_the_untrained_stages_and_the_end(seq, data, tmp_path):
    x, y = data
    callback = PartialOutputs(x[0], ["conv", "pool"], out_dir=tmp_path, size=100)
    seq.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "stages_epoch000.png",
        "stages_epoch001.png",
    ]
    width, height = Image.open(tmp_path / "stages_epoch001.png").size
    assert height > width  # 4 channel rows, 2 layer columns, plus a caption band
    with np.load(tmp_path / "stages_epoch000.npz", allow_pickle=False) as saved:
        assert saved["conv"].shape == (10, 10, 4) and saved["pool"].shape == (5, 5, 4)


def test_layers_must_be_a_list(tmp_path):
    with pytest.raises(ValueError, match="non-empty list"):
        PartialOutputs(np.zeros((4, 4, 1)), "conv", out_dir=tmp_path)
