"""EmbeddingProjector: maps of how a layer (the penultimate by default) arranges the data."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import tensorflow as tf

from convwatch.base import atomic
from convwatch.base.layout import file_stem
from convwatch.base.ranges import PositiveInt, Range, Seed, validate_ranges
from convwatch.callbacks.capture import Capture, Every
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots import neighbour_strips_figure, scatter_figure, thumbnail_map, tile
from convwatch.techniques import embed, layer_outputs, nearest_neighbours, penultimate_layer

METHODS = ("pca", "tsne")


class EmbeddingProjector(Capture):
    """Embeds a layer's outputs for a fixed set of examples in 2-D, with pictures and files.

    At train end (and every `every_n_epochs` epochs if set) it takes the layer's output for
    `data`, and for each method writes `<method>_<tag>.csv` (x, y, label, class),
    `<method>_<tag>.png` (scatter coloured by class) and `<method>_thumbnails_<tag>.png` (each
    image drawn at its point); plus `neighbours_<tag>.png` (a few queries and their nearest
    neighbours in feature space) and, for TensorBoard's projector,
    `projector/{vectors.tsv, metadata.tsv, sprite.png, projector_config.pbtxt}` from the last
    capture (`tensorboard --logdir` on the folder above shows them).

    Args:
        data: model inputs `(N, ...)`, kept fixed; a few hundred to a few thousand.
        labels: class ids `(N,)` (or one-hot `(N, K)`).
        layer: layer name. Defaults to the penultimate layer.
        methods: any of "pca", "tsne". Defaults to both.
        every_n_epochs: also capture every this many epochs; 0 or None (default) means only
            at train end.
        out_dir: folder to write to; created when first needed.
        class_names: names for the class ids, for legends and metadata.
        queries: how many query rows the neighbour strips show. Defaults to 6.
        neighbours: nearest neighbours per query. Defaults to 8.
        seed: seed for t-SNE. Defaults to 0.

    Example:
        >>> cb = EmbeddingProjector(x[:1000], y[:1000], out_dir="run/emb")  # doctest: +SKIP
    """

    group = "How the penultimate layer arranges the test images, in 2-D."
    captions = (
        (r"pca_{tag}\.png", "PCA of the layer's outputs, {tag}: one dot per image, by class."),
        (r"tsne_{tag}\.png", "t-SNE of the layer's outputs, {tag}: one dot per image, by class."),
        (r"pca_thumbnails_{tag}\.png", "PCA map, {tag}: each image drawn at its point."),
        (r"tsne_thumbnails_{tag}\.png", "t-SNE map, {tag}: each image drawn at its point."),
        (
            r"neighbours_{tag}\.png",
            "Query images (left) and their nearest neighbours in feature space, {tag}.",
        ),
        (r"(?P<method>pca|tsne)_{tag}\.csv", "The {method} coordinates, labels and classes."),
        (r"projector/.*", "TensorBoard projector file (`tensorboard --logdir` on this folder)."),
    )
    # the first `size` test images; at least 3 to embed (the constructor's own minimum)
    run_options = {"size": Annotated[int, Range(3)]}
    supplied = frozenset({"out_dir", "data", "labels", "class_names"})

    @classmethod
    def from_run(cls, inputs: RunInputs, size: int = 1000, **options: Any) -> Capture:
        return cls(inputs.x_test[:size], **inputs.labelled_test(cls.__name__, size), **options)

    @validate_ranges
    def __init__(
        self,
        data: Any,
        labels: Any,
        layer: str | None = None,
        methods: Sequence[str] = METHODS,
        every_n_epochs: Every = None,
        out_dir: str | os.PathLike[str] = "embedding",
        class_names: Sequence[str] | None = None,
        queries: PositiveInt = 6,
        neighbours: PositiveInt = 8,
        seed: Seed = 0,
    ):
        super().__init__(out_dir, every_n_epochs, None, at_train_begin=False)
        self.data = np.asarray(data)
        labels = np.asarray(labels)
        self.labels = labels.argmax(-1) if labels.ndim == 2 else labels.astype(int)
        if len(self.data) != len(self.labels) or len(self.data) < 3:
            raise ValueError(
                f"data and labels must have the same length, at least 3. Received: "
                f"{len(self.data)} and {len(self.labels)}"
            )
        bad = [m for m in methods if m not in METHODS]
        if bad or not methods:
            raise ValueError(f"methods must be among {METHODS}. Received: {tuple(methods)}")
        self.layer = layer
        self.methods = tuple(methods)
        self.class_names = tuple(class_names) if class_names is not None else None
        self.queries = queries
        self.neighbours = neighbours
        self.seed = seed
        self._last_tag: str | None = None

    def reset(self) -> None:
        self._last_tag = None

    def _class_name(self, label: int) -> str:
        if self.class_names and 0 <= label < len(self.class_names):
            return self.class_names[label]
        return str(label)

    def capture(self, tag: str, epoch: int, step: int) -> None:
        layer = self.layer or penultimate_layer(self.model)
        features = layer_outputs(self.model, self.data, [layer])[layer].reshape(len(self.data), -1)
        names = [self._class_name(int(c)) for c in self.labels]
        for method in self.methods:
            coords = embed(features, method=method, seed=self.seed)
            rows = [
                {"x": float(x), "y": float(y), "label": int(c), "class": n}
                for (x, y), c, n in zip(coords, self.labels, names, strict=True)
            ]
            atomic.write_csv(self.path(f"{method}_{tag}.csv"), rows, ["x", "y", "label", "class"])
            title = f"{method.upper()} of {layer} ({tag}, {len(features)} points)"
            atomic.write_figure(
                self.path(f"{method}_{tag}.png"),
                scatter_figure(coords, self.labels, self.class_names, title=title),
            )
            if self.data.ndim == 4:
                atomic.write_png(
                    self.path(f"{method}_thumbnails_{tag}.png"), thumbnail_map(coords, self.data)
                )
        queries = self._query_rows()
        nearest = nearest_neighbours(features, k=self.neighbours, queries=queries)
        if self.data.ndim == 4:
            atomic.write_figure(
                self.path(f"neighbours_{tag}.png"),
                neighbour_strips_figure(
                    self.data,
                    queries,
                    nearest,
                    self.labels,
                    self.class_names,
                    title=f"nearest neighbours in {layer} ({tag})",
                ),
            )
        self._write_projector(features, names, layer)
        self._last_tag = tag

    def finish(self) -> None:
        if self._last_tag != f"epoch{self._epoch:03d}":
            self.capture(f"epoch{self._epoch:03d}", self._epoch, self._step)

    def _query_rows(self) -> np.ndarray:
        """The first example of each class, then the next ones, up to `queries` rows."""
        _, first = np.unique(self.labels, return_index=True)
        rest = np.setdiff1d(np.arange(len(self.labels)), first)
        return np.concatenate([np.sort(first), rest])[: self.queries]

    def _write_projector(self, features: np.ndarray, names: list[str], layer: str) -> None:
        folder = self.out_dir / "projector"
        vectors = "\n".join("\t".join(f"{v:.5g}" for v in row) for row in features) + "\n"
        atomic.write_text(folder / "vectors.tsv", vectors)
        atomic.write_text(
            folder / "metadata.tsv",
            "label\tclass\n"
            + "".join(f"{c}\t{n}\n" for c, n in zip(self.labels, names, strict=True)),
        )
        sprite = ""
        if self.data.ndim == 4 and len(self.data) <= 8192:
            count = int(np.ceil(np.sqrt(len(self.data))))
            grid = tile(self.data.astype("float32"), cols=count, pad=0, normalize="global")
            image = (np.clip(grid, 0, 1) * 255).astype(np.uint8)
            atomic.write_png(folder / "sprite.png", image)
            h, w = self.data.shape[1:3]
            sprite = (
                '  sprite {\n    image_path: "sprite.png"\n'
                f"    single_image_dim: {w}\n    single_image_dim: {h}\n  }}\n"
            )
        self._mark_as_tensorboard_run(folder, len(features))
        atomic.write_text(
            folder / "projector_config.pbtxt",
            "embeddings {\n"
            f'  tensor_name: "{file_stem(layer)}"\n'
            '  tensor_path: "vectors.tsv"\n'
            '  metadata_path: "metadata.tsv"\n'
            f"{sprite}"
            "}\n",
        )

    @staticmethod
    def _mark_as_tensorboard_run(folder: Path, points: int) -> None:
        """TensorBoard's projector only looks in folders that hold an event file."""
        if any(folder.glob("events.out.tfevents.*")):
            return
        with tf.summary.create_file_writer(str(folder)).as_default():
            tf.summary.scalar("projector/points", points, step=0)
