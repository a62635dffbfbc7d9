"""EmbeddingProjector: maps of how a layer (the penultimate by default) arranges the data."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np

from convwatch.base.ranges import PositiveFloat, PositiveInt, Range, Seed, validate_ranges
from convwatch.callbacks import embedding_files as files
from convwatch.callbacks.budget import UNSET
from convwatch.callbacks.capture import BUDGET_CAPTION, Capture, Every
from convwatch.callbacks.model_copy import ModelCopy, snapshot
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.plots.scaling import display_range
from convwatch.techniques import embed, layer_outputs, penultimate_layer
from convwatch.techniques.memory import ForwardCost, footprint, read_cost

METHODS = ("pca", "tsne")
MIN_POINTS = 100  # the fewest examples a budget thins a map to
TSNE_S = 0.001  # about what a t-SNE takes per point (openTSNE, 250 iterations, 2 cores)
DRAW_S = 0.5  # about what the maps, pictures and files of a capture take


class EmbeddingProjector(Capture):
    """Embeds a layer's outputs for a fixed set of examples in 2-D, epoch by epoch.

    At train begin (the untrained network, `epoch000`), every `every_n_epochs` epochs (default:
    every epoch) and at train end, it takes the layer's output for `data` and for each method
    writes `<method>_<tag>.csv` (x, y, label, class) and `<method>_<tag>.png` (a dot per
    example, coloured by class). Each t-SNE map starts from the previous capture's
    (`convwatch.techniques.tsne`), so the maps line up: a class stays about where it was. At
    the end, `<method>.gif` plays the maps in order (same limits in every frame, one colour per
    class): the classes pulling apart as the network learns. To keep the per-epoch cost down,
    the heavier files come from the final capture only: `<method>_thumbnails_<tag>.png` (each
    image drawn at its point), `neighbours_<tag>.png` (a few queries and their nearest
    neighbours in feature space) and, for TensorBoard's projector, `projector/{vectors.tsv,
    metadata.tsv, sprite.png, projector_config.pbtxt}` (`tensorboard --logdir` on the folder
    above shows them).

    The training thread only copies the weights: the forward pass (on a private copy of the
    model, `model_copy.py`, as many images at a time as 128 MB of activations allow), the maps,
    pictures and files are made on the capture's background lane, and are all complete when
    `fit` returns. Under a capture budget a model of over 64 MB of weights (a ResNet50), and
    any model that cannot be copied, has its forward pass on the training thread.

    Args:
        data: model inputs `(N, ...)`, kept fixed; a few hundred to a few thousand.
        labels: class ids `(N,)` (or one-hot `(N, K)`).
        layer: layer name. Defaults to the penultimate layer.
        methods: any of "pca", "tsne". Defaults to both.
        every_n_epochs: capture every this many epochs (and the untrained network). Defaults
            to 1; 0 or None: only at train end (no GIF then: it needs two maps).
        out_dir: folder to write to; created when first needed.
        class_names: names for the class ids, for legends and metadata.
        queries: how many query rows the neighbour strips show. Defaults to 6.
        neighbours: nearest neighbours per query. Defaults to 8.
        seed: seed for t-SNE. Defaults to 0.
        budget: the share of training time this fit's captures may add (`budget.py`; it
            applies to all of them); None: every capture as scheduled, with all of `data`.
            Under a budget a capture may embed fewer examples (the first ones, at least
            100), or skip an epoch; the last epoch is always captured. Defaults to the fit's.

    Example:
        >>> cb = EmbeddingProjector(x[:1000], y[:1000], out_dir="run/emb")  # doctest: +SKIP
    """

    group = "How the penultimate layer arranges the test images, in 2-D, epoch by epoch."
    captions = (
        (r"pca_{tag}\.png", "PCA of the layer's outputs, {tag}: one dot per image, by class."),
        (
            r"pca\.gif",
            "The PCA map epoch by epoch, each turned to match the one before, at one scale.",
        ),
        (r"tsne_{tag}\.png", "t-SNE of the layer's outputs, {tag}: one dot per image, by class."),
        (
            r"tsne\.gif",
            "The t-SNE map epoch by epoch, each epoch's t-SNE started from the previous one's, "
            "so a class stays in about the same place.",
        ),
        (
            r"pca_thumbnails_{tag}\.png",
            "PCA map, {tag} (the final capture): each image drawn at its point.",
        ),
        (
            r"tsne_thumbnails_{tag}\.png",
            "t-SNE map, {tag} (the final capture): each image drawn at its point.",
        ),
        (
            r"neighbours_{tag}\.png",
            "Query images (left) and their nearest neighbours in feature space, {tag} "
            "(the final capture).",
        ),
        (r"(?P<method>pca|tsne)_{tag}\.csv", "The {method} coordinates, labels and classes."),
        (
            r"projector/.*",
            "TensorBoard projector file of the final capture "
            "(`tensorboard --logdir` on this folder).",
        ),
        BUDGET_CAPTION,
    )
    # the first `size` test images; at least 3 to embed (the constructor's own minimum)
    run_options = {"size": Annotated[int, Range(3)]}
    supplied = frozenset({"out_dir", "data", "labels", "class_names"})
    budgeted = True

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
        every_n_epochs: Every = 1,
        out_dir: str | os.PathLike[str] = "embedding",
        class_names: Sequence[str] | None = None,
        queries: PositiveInt = 6,
        neighbours: PositiveInt = 8,
        seed: Seed = 0,
        budget: PositiveFloat | None = UNSET,
    ):
        super().__init__(
            out_dir, every_n_epochs, None, at_train_begin=bool(every_n_epochs), budget=budget
        )
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
        self.reset()

    def reset(self) -> None:
        # training thread: what was captured last, the model copy, the cost of a forward call
        self._last_tag: str | None = None
        self._last_final = False
        self._copy: ModelCopy | None = None
        self._copied = False
        self._cost: ForwardCost | None = None  # what a forward pass costs, timed once
        self._batch = 1
        # background lane only (reset here while the lane is idle: after cancel_background)
        self._frames: dict[str, list[tuple[int, np.ndarray]]] = {m: [] for m in self.methods}
        self._latest: tuple[str, str, np.ndarray, dict[str, np.ndarray]] | None = None

    def _class_name(self, label: int) -> str:
        if self.class_names and 0 <= label < len(self.class_names):
            return self.class_names[label]
        return str(label)

    def capture(self, tag: str, epoch: int, step: int) -> None:
        last_epoch = (getattr(self, "params", None) or {}).get("epochs")
        self._snapshot(tag, epoch, final=epoch == last_epoch)

    def finish(self) -> None:
        tag = f"epoch{self._epoch:03d}"
        if self._last_tag != tag:
            self._snapshot(tag, self._epoch, final=True)
        elif not self._last_final:  # training stopped early, after an epoch's capture
            self.later(self._write_extras)
        self.later(self._write_gifs)

    def _snapshot(self, tag: str, epoch: int, final: bool) -> None:
        """The layer's outputs now, or the weights now and the outputs later on the private
        copy (without a budget); the rest later, in the background."""
        layer = self.layer or penultimate_layer(self.model)
        if not self._copied:  # once per fit: cloning needs the live model
            self._copy, self._copied = self.model_copy(), True
        self._last_tag, self._last_final = tag, final
        if self._copy is not None:
            self.later(self._sized_copy, tag, epoch, layer, final, snapshot(self.model))
        else:
            self._time_forward(self.model, layer)
            work = self._work(tag, epoch, layer, final, model=self.model)
            self.sized(tag, epoch, final, self._units, work, wait=False)

    def _time_forward(self, model, layer: str) -> None:
        """Once per fit: how many images a forward call takes, within the network's activations'
        memory (memory.py), and the seconds such a call to `layer` takes."""
        if self._cost is None:
            self._batch = min(footprint(model, self.data.shape[1:]).forward_batch(), len(self.data))
            self._cost = read_cost(model, self.data, [layer], self._batch)

    def _points(self, scale: float) -> int:
        """Examples embedded at `scale`: a prefix of `data`, at least 100 (or all)."""
        return max(min(len(self.data), MIN_POINTS), math.ceil(scale * len(self.data)))

    def _units(self, scale: float) -> float:
        """Predicted seconds at `scale`: the forward pass, the t-SNE, the pictures."""
        points = self._points(scale)
        forward = self._cost.seconds(points, self._batch)
        return forward + points * TSNE_S * ("tsne" in self.methods) + DRAW_S

    def _sized_copy(self, tag, epoch, layer, final, weights: list[np.ndarray]) -> None:
        if self._cost is None:
            with self._copy.held() as model:
                self.set_up(self._time_forward, model, layer)
        self.sized(tag, epoch, final, self._units, self._work(tag, epoch, layer, final, weights))

    def _work(self, tag: str, epoch: int, layer: str, final: bool, weights=None, model=None):
        """The capture at a scale: `model` read here and drawn later, or, in the background,
        the private copy holding `weights` (held only for the forward pass) and the drawing
        right after."""

        def work(scale: float) -> str:
            points = self._points(scale)
            if model is not None:
                features = self._features(model, layer, points)
                self.draw_later(self._draw, tag, epoch, layer, features, final)
            else:
                with self._copy.loaded(weights) as copy:
                    features = self._features(copy, layer, points)
                self._draw(tag, epoch, layer, features, final)
            return f"{points} of {len(self.data)} points"

        return work

    def _features(self, model, layer: str, points: int) -> np.ndarray:
        """The first `points` examples' outputs of `layer`, flattened (a copy)."""
        data = self.data[:points]
        outputs = layer_outputs(model, data, [layer], batch_size=self._batch, compiled=True)
        return np.array(outputs[layer], dtype=np.float32).reshape(points, -1)

    def _draw(self, tag: str, epoch: int, layer: str, features: np.ndarray, final: bool) -> None:
        """Background: each method's map (t-SNE from the previous map), its CSV and scatter;
        the final capture's extras too."""
        points = len(features)
        labels = self.labels[:points]
        names = [self._class_name(int(c)) for c in labels]
        if not final and not any(self._frames.values()):
            files.mark_tensorboard_run(self.path("projector"), points)
        maps = {}
        for method in self.methods:
            frames = self._frames[method]
            previous = frames[-1][1] if method == "tsne" and frames else None
            coords = embed(
                features,
                method=method,
                seed=self.seed,
                initial=None if previous is None or len(previous) < points else previous[:points],
                n_jobs=None if final else 1,  # one thread next to training
            )
            title = f"{files.method_title(method)} of {layer} ({tag}, {points} points)"
            files.write_map(self.path, method, tag, coords, labels, names, self.class_names, title)
            frames.append((epoch, coords))
            maps[method] = coords
        self._latest = (tag, layer, features, maps)
        if final:
            self._write_extras()

    def _write_extras(self) -> None:
        """Background: thumbnails, neighbour strips and projector files of the latest capture."""
        if self._latest is None:
            return
        tag, layer, features, maps = self._latest
        labels = self.labels[: len(features)]
        files.write_extras(
            self.path,
            tag,
            layer,
            features,
            maps,
            self._shown(self.data[: len(features)]),
            labels,
            [self._class_name(int(c)) for c in labels],
            self.class_names,
            self._query_rows(labels),
            min(self.neighbours, len(features) - 1),  # a small set has fewer
        )

    def _shown(self, images: np.ndarray) -> np.ndarray:
        """`images` in [0, 1] for the thumbnails, strips and sprite, whatever range the model
        takes (0-255 for most keras.applications networks)."""
        low, high = display_range(self.data)
        if (low, high) == (0.0, 1.0):
            return images
        return (images.astype(np.float32) - low) / (high - low)

    def _write_gifs(self) -> None:
        """Background: `<method>.gif` of the maps so far, where there are two or more."""
        if self._latest is None:
            return
        layer = self._latest[1]
        for method, frames in self._frames.items():
            if len(frames) >= 2:  # the points every frame has (a budget may thin some)
                points = min(len(coords) for _, coords in frames)
                frames = [(epoch, coords[:points]) for epoch, coords in frames]
                labels = self.labels[:points]
                files.write_gif(self.path, method, frames, labels, self.class_names, layer)

    def _query_rows(self, labels: np.ndarray) -> np.ndarray:
        """The first example of each class, then the next ones, up to `queries` rows."""
        _, first = np.unique(labels, return_index=True)
        rest = np.setdiff1d(np.arange(len(labels)), first)
        return np.concatenate([np.sort(first), rest])[: self.queries]
