"""EmbeddingProjector: a map per epoch (each t-SNE started from the one before), GIFs of them
on fixed axes, the final capture's neighbours and projector files, all made in the background
and complete when fit returns."""

from __future__ import annotations

import threading

import keras
import numpy as np
import pytest
from PIL import Image

from convwatch.base.atomic import read_csv
from convwatch.base.background import background_enabled
from convwatch.callbacks import EmbeddingProjector, embedding_files, embedding_projector


def learnable(n: int = 48, seed: int = 0):
    """12x12 images of 3 classes, each class a bright square in its own corner, plus noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.random((n, 12, 12, 1), dtype=np.float32) * 0.3
    for c, (r, col) in enumerate([(0, 0), (0, 6), (6, 3)]):
        x[y == c, r : r + 6, col : col + 6] += 0.7
    return x, y


def coords(path) -> np.ndarray:
    return np.array([[float(r["x"]), float(r["y"])] for r in read_csv(path)])


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
    # the untrained network's map too (right after the first batch where that builds the
    # model): two maps, played as a GIF
    # (JAX's and PyTorch's fit build a model before train begin, TensorFlow's at the first batch)
    built = kind != "unbuilt" or keras.backend.backend() != "tensorflow"
    first = "tsne_epoch000.csv" if built else "tsne_step000001.csv"
    assert (tmp_path / first).is_file()
    with Image.open(tmp_path / "tsne.gif") as gif:
        assert gif.n_frames == 2
    projector = tmp_path / "projector"
    vectors = (projector / "vectors.tsv").read_text().splitlines()
    assert len(vectors) == 32 and len(vectors[0].split("\t")) == 8  # "hidden" has 8 units
    assert len((projector / "metadata.tsv").read_text().splitlines()) == 33
    config = (projector / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "vectors.tsv"' in config and 'image_path: "sprite.png"' in config
    assert Image.open(projector / "sprite.png").size == (6 * 12, 6 * 12)


def test_a_map_per_epoch_lined_up_and_played_as_a_gif(seq, tmp_path):
    x, y = learnable()
    seq.optimizer.learning_rate.assign(0.01)
    callback = EmbeddingProjector(x, y, out_dir=tmp_path)  # every epoch by default
    seq.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[callback])
    names = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    for epoch in (0, 1, 2, 3, 4):
        assert {f"pca_epoch{epoch:03d}.csv", f"tsne_epoch{epoch:03d}.png"} <= names
    # the heavier files come from the final capture only
    assert {"tsne_thumbnails_epoch004.png", "neighbours_epoch004.png"} <= names
    assert "projector/vectors.tsv" in names
    assert not any("epoch001" in n and ("thumbnails" in n or "neighbours" in n) for n in names)
    # each epoch's t-SNE starts from the previous map: after the first epoch, the points move
    # less than a tenth of the map's extent
    maps = [coords(tmp_path / f"tsne_epoch{e:03d}.csv") for e in (1, 2, 3, 4)]
    for before, after in zip(maps[:-1], maps[1:], strict=True):
        extent = np.ptp(before, axis=0).max()
        assert np.linalg.norm(after - before, axis=1).mean() < 0.1 * extent
    for method in ("tsne", "pca"):
        with Image.open(tmp_path / f"{method}.gif") as gif:
            assert gif.n_frames == 5  # the untrained network, then epochs 1 to 4
            sizes = set()
            for i in range(gif.n_frames):
                gif.seek(i)
                sizes.add(gif.size)
            assert len(sizes) == 1


@pytest.mark.skipif(not background_enabled(), reason="CONVWATCH_BACKGROUND=0: all inline")
def test_the_maps_are_made_off_the_training_thread(seq, data, tmp_path, monkeypatch):
    x, y = data
    threads = []
    real_embed = embedding_projector.embed

    def embed(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_embed(*args, **kwargs)

    monkeypatch.setattr(embedding_projector, "embed", embed)
    callback = EmbeddingProjector(x, y, out_dir=tmp_path)
    seq.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    assert len(threads) == 6 and threading.main_thread() not in threads  # 3 captures, 2 maps


def test_an_error_in_the_background_is_raised_by_fit(seq, data, tmp_path, monkeypatch):
    x, y = data

    def broken(*args, **kwargs):
        raise RuntimeError("no scatter today")

    monkeypatch.setattr(embedding_files, "map_image", broken)
    callback = EmbeddingProjector(x, y, methods=("pca",), out_dir=tmp_path)
    with pytest.raises(RuntimeError, match="no scatter today"):
        seq.fit(x, y, epochs=2, verbose=0, callbacks=[callback])


def test_stopped_early_the_last_capture_gets_the_final_files(seq, data, tmp_path):
    x, y = data

    class StopAfterTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = epoch == 1

    callback = EmbeddingProjector(x, y, methods=("tsne",), out_dir=tmp_path)
    seq.fit(x, y, epochs=5, verbose=0, callbacks=[callback, StopAfterTwo()])
    assert sorted(p.name for p in tmp_path.glob("tsne_epoch*.csv")) == [
        "tsne_epoch000.csv",
        "tsne_epoch001.csv",
        "tsne_epoch002.csv",
    ]
    assert (tmp_path / "tsne_thumbnails_epoch002.png").is_file()
    assert (tmp_path / "neighbours_epoch002.png").is_file()
    with Image.open(tmp_path / "tsne.gif") as gif:
        assert gif.n_frames == 3


def test_only_at_train_end_when_asked(seq, data, tmp_path):
    x, y = data
    callback = EmbeddingProjector(x, y, methods=("pca",), every_n_epochs=0, out_dir=tmp_path)
    seq.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    assert [p.name for p in tmp_path.glob("pca_epoch*.csv")] == ["pca_epoch002.csv"]
    assert not (tmp_path / "pca.gif").exists()


def test_one_hot_labels_and_bad_arguments(seq, data, tmp_path):
    x, y = data
    one_hot = np.eye(3)[y]
    callback = EmbeddingProjector(x, one_hot, methods=("pca",), out_dir=tmp_path)
    assert list(callback.labels) == list(y)
    with pytest.raises(ValueError, match="methods must be among"):
        EmbeddingProjector(x, y, methods=("umap",))
    with pytest.raises(ValueError, match="same length"):
        EmbeddingProjector(x, y[:5])


def test_a_set_smaller_than_the_neighbours_asked_for_shows_all_the_others(seq, tmp_path):
    from convwatch.callbacks import EmbeddingProjector

    rng = np.random.default_rng(0)
    x, y = rng.random((6, 12, 12, 1), dtype=np.float32), rng.integers(0, 3, 6)
    callback = EmbeddingProjector(x, y, methods=("pca",), out_dir=tmp_path, neighbours=8)
    seq.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    assert (tmp_path / "neighbours_epoch001.png").is_file()  # 5 neighbours each, not an error
