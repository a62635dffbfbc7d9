"""The files of an EmbeddingProjector capture: map CSVs and scatters, the final capture's
thumbnails, neighbour strips and TensorBoard projector files, and the maps' GIFs.

Every function here runs on the capture's background lane, on copies (feature vectors, maps);
nothing here sees the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from convwatch.base import atomic
from convwatch.base.layout import file_stem
from convwatch.plots import (
    map_frames,
    map_image,
    neighbour_strips,
    thumbnail_map,
    tile,
)
from convwatch.techniques import align_to, nearest_neighbours

GIF_FRAME_MS = 600  # a map per epoch: slow enough to follow a class
SPRITE_LIMIT = 8192  # TensorBoard's projector reads a sprite of at most 8192 x 8192 images


def write_map(
    path: Callable[[str], Path],
    method: str,
    tag: str,
    coords: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    class_names: Sequence[str] | None,
    title: str,
) -> None:
    """`<method>_<tag>.csv` (x, y, label, class) and `<method>_<tag>.png` (scatter by class)."""
    rows = [
        {"x": float(x), "y": float(y), "label": int(c), "class": n}
        for (x, y), c, n in zip(coords, labels, names, strict=True)
    ]
    atomic.write_csv(path(f"{method}_{tag}.csv"), rows, ["x", "y", "label", "class"])
    atomic.write_png(path(f"{method}_{tag}.png"), map_image(coords, labels, class_names, title))


def write_extras(
    path: Callable[[str], Path],
    tag: str,
    layer: str,
    features: np.ndarray,
    maps: dict[str, np.ndarray],
    data: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    class_names: Sequence[str] | None,
    queries: np.ndarray,
    neighbours: int,
) -> None:
    """The final capture's heavier files: `<method>_thumbnails_<tag>.png` per map and
    `neighbours_<tag>.png` (images only), and the TensorBoard projector files."""
    if data.ndim == 4:
        for method, coords in maps.items():
            atomic.write_png(path(f"{method}_thumbnails_{tag}.png"), thumbnail_map(coords, data))
        nearest = nearest_neighbours(features, k=neighbours, queries=queries)
        atomic.write_png(
            path(f"neighbours_{tag}.png"),
            neighbour_strips(
                data,
                queries,
                nearest,
                labels,
                class_names,
                title=f"nearest neighbours in {layer} ({tag})",
            ),
        )
    write_projector(path("projector"), features, data, labels, names, layer)


def write_gif(
    path: Callable[[str], Path],
    method: str,
    frames: Sequence[tuple[int, np.ndarray]],
    labels: np.ndarray,
    class_names: Sequence[str] | None,
    layer: str,
) -> None:
    """`<method>.gif`: the maps `(epoch, coords)` in order, one frame each, on the same axes
    limits. PCA maps are first turned to match the map before (a PCA's axes may flip from one
    epoch to the next); t-SNE maps line up already (each started from the one before)."""
    maps = [coords for _, coords in frames]
    if method == "pca":
        for i in range(1, len(maps)):
            maps[i] = align_to(maps[i], maps[i - 1])
    titles = [
        f"{method_title(method)} of {layer}, " + (f"epoch {epoch}" if epoch else "untrained")
        for epoch, _ in frames
    ]
    images = map_frames(maps, labels, titles, class_names)
    atomic.write_gif(path(f"{method}.gif"), images, duration_ms=GIF_FRAME_MS)


def method_title(method: str) -> str:
    return {"tsne": "t-SNE", "pca": "PCA"}.get(method, method)


def write_projector(
    folder: Path,
    features: np.ndarray,
    data: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    layer: str,
) -> None:
    """vectors.tsv, metadata.tsv, sprite.png (images only) and projector_config.pbtxt, with an
    event file so that TensorBoard's projector finds the folder."""
    vectors = "\n".join("\t".join(f"{v:.5g}" for v in row) for row in features) + "\n"
    atomic.write_text(folder / "vectors.tsv", vectors)
    atomic.write_text(
        folder / "metadata.tsv",
        "label\tclass\n" + "".join(f"{c}\t{n}\n" for c, n in zip(labels, names, strict=True)),
    )
    sprite = ""
    if data.ndim == 4 and len(data) <= SPRITE_LIMIT:
        count = int(np.ceil(np.sqrt(len(data))))
        grid = tile(data.astype("float32"), cols=count, pad=0, normalize="global")
        atomic.write_png(folder / "sprite.png", (np.clip(grid, 0, 1) * 255).astype(np.uint8))
        h, w = data.shape[1:3]
        sprite = (
            '  sprite {\n    image_path: "sprite.png"\n'
            f"    single_image_dim: {w}\n    single_image_dim: {h}\n  }}\n"
        )
    mark_tensorboard_run(folder, len(features))
    atomic.write_text(
        folder / "projector_config.pbtxt",
        "embeddings {\n"
        f'  tensor_name: "{file_stem(layer)}"\n'
        '  tensor_path: "vectors.tsv"\n'
        '  metadata_path: "metadata.tsv"\n'
        f"{sprite}"
        "}\n",
    )


def mark_tensorboard_run(folder: Path, points: int) -> None:
    """TensorBoard's projector only looks in folders that hold an event file. The first one
    a process writes costs ~0.15 s (TensorFlow's summary machinery starting), so the first
    capture writes it, during training, not the final one."""
    if any(folder.glob("events.out.tfevents.*")):
        return
    with tf.summary.create_file_writer(str(folder)).as_default():
        tf.summary.scalar("projector/points", points, step=0)
