"""EmbeddingProjector writes 2-D maps of the penultimate layer, neighbours and projector files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convwatch.base.atomic import read_csv
from convwatch.callbacks import EmbeddingProjector


def test_writes_maps_neighbours_and_projector_files(any_model, data, tmp_path):
    kind, model = any_model
    x, y = data
    callback = EmbeddingProjector(x, y, class_names=["a", "b", "c"], out_dir=tmp_path)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    for method in ("pca", "tsne"):
        rows = read_csv(tmp_path / f"{method}_epoch001.csv")
        assert len(rows) == 32
        assert [int(r["label"]) for r in rows] == list(y)
        assert {r["class"] for r in rows} <= {"a", "b", "c"}
        assert np.isfinite([float(r["x"]) for r in rows]).all()
        for png in (f"{method}_epoch001.png", f"{method}_thumbnails_epoch001.png"):
            assert Image.open(tmp_path / png).size[0] > 100
    assert Image.open(tmp_path / "neighbours_epoch001.png").size[0] > 100
    projector = tmp_path / "projector"
    vectors = (projector / "vectors.tsv").read_text().splitlines()
    assert len(vectors) == 32 and len(vectors[0].split("\t")) == 8  # "hidden" has 8 units
    assert len((projector / "metadata.tsv").read_text().splitlines()) == 33
    config = (projector / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "vectors.tsv"' in config and 'image_path: "sprite.png"' in config
    assert Image.open(projector / "sprite.png").size == (6 * 12, 6 * 12)


def test_periodic_captures_and_no_duplicate_at_the_end(seq, data, tmp_path):
    x, y = data
    callback = EmbeddingProjector(x, y, methods=("pca",), every_n_epochs=1, out_dir=tmp_path)
    seq.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    assert sorted(p.name for p in tmp_path.glob("pca_epoch*.csv")) == [
        "pca_epoch001.csv",
        "pca_epoch002.csv",
    ]


def test_one_hot_labels_and_bad_arguments(seq, data, tmp_path):
    x, y = data
    one_hot = np.eye(3)[y]
    callback = EmbeddingProjector(x, one_hot, methods=("pca",), out_dir=tmp_path)
    assert list(callback.labels) == list(y)
    with pytest.raises(ValueError, match="methods must be among"):
        EmbeddingProjector(x, y, methods=("umap",))
    with pytest.raises(ValueError, match="same length"):
        EmbeddingProjector(x, y[:5])
