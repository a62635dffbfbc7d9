"""ClassificationReport: what a classifier gets right and wrong, before training and after."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from convwatch import plots
from convwatch.base import atomic
from convwatch.base.ranges import NonNegativeInt, PositiveInt, Seed, validate_ranges
from convwatch.callbacks.capture import Capture, Every
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.techniques import confusion
from convwatch.techniques.confusion import errors_by_class, normalize_rows, top_k

logger = logging.getLogger(__name__)


class ClassificationReport(Capture):
    """Accuracy overall and per class, confusion matrix, confused pairs and image grids.

    It evaluates the model on a fixed labelled set before training (`epoch000`: the starting
    point, about chance), every `every_n_epochs` epochs if set, and at the end. Per capture
    `<tag>` it writes:

    - `per_class_<tag>.csv` / `.png`: examples, correct, accuracy and errors per true class,
      with the class it is most often taken for; bar chart with the overall accuracy.
    - `confusion_<tag>.csv` (counts), `confusion_normalized_<tag>.csv` (share of each true
      class), `confusion_<tag>.png` (both, rows true, columns predicted).
    - `confused_pairs_<tag>.csv`: the most confused pairs, in words ("Shirt → T-shirt/top 9.8%").
    - `samples_<tag>.png`: random examples (the same ones each time) with predicted/true labels.
    - `errors_<tag>.png`: wrongly predicted examples with their top-k probabilities.
    - `errors_by_class_<tag>.png`: each true class's errors split by the class predicted.
    - `class_scores_<tag>.png`: the class-score bar chart of the first `class_scores` examples.

    and, rewritten after every capture, `accuracy.csv` (one row per capture: epoch, overall
    and per-class accuracy) and `report.json` (the same, with the confused pairs in words).

    Args:
        data: model inputs `(N, ...)`, kept fixed (a test set).
        labels: class ids `(N,)` or one-hot rows `(N, K)`.
        class_names: names for the class ids. Defaults to the ids as text.
        every_n_epochs: also report every this many epochs; 0 or None (default) means only
            before training and at the end.
        out_dir: folder to write to; created when first needed.
        samples: images in the random-examples grid. Defaults to 24.
        errors: images in the wrong-predictions grid. Defaults to 24.
        class_scores: images in the class-score chart; 0 skips it. Defaults to 4.
        pairs: confused pairs listed. Defaults to 5.
        top_k: probabilities shown per wrong prediction. Defaults to 3.
        batch_size: prediction batch size. Defaults to 256.
        seed: picks the random examples. Defaults to 0.
        verbose: 1 logs the accuracy and the most confused pairs at each capture.

    Example:
        >>> report = ClassificationReport(x_test, y_test, names, out_dir="run/cr")  # doctest: +SKIP
        >>> model.fit(x, y, epochs=5, callbacks=[report])  # doctest: +SKIP
    """

    group = "Which classes the model gets right, which it confuses, and examples of both."
    captions = (
        (r"per_class_{tag}\.png", "Accuracy of each class, {tag}."),
        (r"per_class_{tag}\.csv", "Accuracy, errors and most frequent mistake per class, {tag}."),
        (r"confusion_{tag}\.png", "Confusion matrix, {tag}: rows true class, columns predicted."),
        (r"confusion_{tag}\.csv", "Confusion matrix as counts, {tag}."),
        (r"confusion_normalized_{tag}\.csv", "Confusion matrix as row rates, {tag}."),
        (r"errors_by_class_{tag}\.png", "How the errors split by true class, {tag}."),
        (r"confused_pairs_{tag}\.csv", "The class pairs most often confused, {tag}."),
        (r"samples_{tag}\.png", "Random test images and their predictions, {tag}."),
        (r"errors_{tag}\.png", "Wrongly predicted test images with the top classes, {tag}."),
        (r"class_scores_{tag}\.png", "Every class score for a few test images, {tag}."),
        (r"accuracy\.csv", "Overall and per-class accuracy at every capture."),
    )
    run_options = {"size": PositiveInt | None}  # the first `size` test images; None: all
    supplied = frozenset({"out_dir", "data", "labels", "class_names"})

    @classmethod
    def from_run(cls, inputs: RunInputs, size: int | None = None, **options: Any) -> Capture:
        return cls(inputs.x_test[:size], **inputs.labelled_test(cls.__name__, size), **options)

    @validate_ranges
    def __init__(
        self,
        data: Any,
        labels: Any,
        class_names: Sequence[str] | None = None,
        every_n_epochs: Every = None,
        out_dir: str | os.PathLike[str] = "classification_report",
        samples: NonNegativeInt = 24,
        errors: NonNegativeInt = 24,
        class_scores: NonNegativeInt = 4,
        pairs: NonNegativeInt = 5,
        top_k: PositiveInt = 3,
        batch_size: PositiveInt = 256,
        seed: Seed = 0,
        verbose: int = 0,
    ):
        super().__init__(out_dir, every_n_epochs, None, at_train_begin=True, verbose=verbose)
        self.data = np.asarray(data)
        labels = np.asarray(labels)
        self.labels = labels.argmax(-1) if labels.ndim == 2 else labels.astype(np.int64)
        if len(self.data) != len(self.labels) or not len(self.data):
            raise ValueError(
                f"data and labels must have the same, non-zero length. Received: "
                f"{len(self.data)} and {len(self.labels)}"
            )
        count = max(len(class_names or ()), int(self.labels.max()) + 1)
        self.class_names = tuple(class_names) if class_names else tuple(map(str, range(count)))
        self.samples, self.errors, self.class_scores = samples, errors, class_scores
        self.pairs, self.top_k, self.batch_size, self.seed = pairs, top_k, batch_size, seed
        self.captures: list[dict[str, Any]] = []

    def reset(self) -> None:
        self.captures = []

    def capture(self, tag: str, epoch: int, step: int) -> None:
        probabilities = np.asarray(self.model.predict(self.data, self.batch_size, verbose=0))
        k = max(len(self.class_names), probabilities.shape[-1])
        names = self.class_names + tuple(map(str, range(len(self.class_names), k)))
        predicted = probabilities.argmax(-1)
        counts = confusion.confusion_matrix(self.labels, predicted, k)
        accuracy = confusion.per_class_accuracy(counts)
        pairs = confusion.most_confused(counts, self.pairs)
        summary = {
            "tag": tag,
            "epoch": epoch,
            "examples": int(counts.sum()),
            "accuracy": confusion.overall_accuracy(counts),
            "per_class_accuracy": {n: _number(a) for n, a in zip(names, accuracy, strict=True)},
            "most_confused": [
                f"{names[p.true]} → {names[p.predicted]} {p.rate:.1%}" for p in pairs
            ],
        }
        self.captures.append(summary)
        self._write_tables(tag, names, counts, accuracy, pairs)
        self._write_figures(tag, names, counts, accuracy, summary["accuracy"], probabilities)
        if self.verbose:
            logger.info(
                "[ClassificationReport] %s: accuracy %.2f%%; most confused: %s",
                tag,
                100 * summary["accuracy"],
                ", ".join(summary["most_confused"]) or "none",
            )

    def finish(self) -> None:
        tag = f"epoch{self._epoch:03d}"
        if not self.captures or self.captures[-1]["tag"] != tag:
            self.capture(tag, self._epoch, self._step)

    def run_summary(self) -> dict[str, Any]:
        """Accuracy at each capture (epoch 0 first) and the last capture's details, for
        metrics.json."""
        if not self.captures:
            return {}
        by_epoch = {str(c["epoch"]): c["accuracy"] for c in self.captures}
        return {"accuracy_by_epoch": by_epoch, **self.captures[-1]}

    # ------------------------------------------------------------------ files
    def _write_tables(self, tag, names, counts, accuracy, pairs) -> None:
        wrong = errors_by_class(counts)
        off = counts * (1 - np.eye(len(counts), dtype=counts.dtype))
        rows = [
            {
                "class": i,
                "name": names[i],
                "examples": int(counts[i].sum()),
                "correct": int(counts[i, i]),
                "accuracy": _number(accuracy[i]),
                "errors": int(wrong[i]),
                "most_taken_for": names[int(off[i].argmax())] if wrong[i] else "",
            }
            for i in range(len(counts))
        ]
        atomic.write_csv(self.path(f"per_class_{tag}.csv"), rows, list(rows[0]))
        matrices = (("confusion", counts), ("confusion_normalized", normalize_rows(counts)))
        for stem, matrix in matrices:
            table = [
                {"true": names[i], **dict(zip(names, row, strict=True))}
                for i, row in enumerate(matrix.tolist())
            ]
            atomic.write_csv(self.path(f"{stem}_{tag}.csv"), table, ["true", *names])
        pair_rows = [
            {
                "true": names[p.true],
                "predicted": names[p.predicted],
                "count": p.count,
                "rate": round(p.rate, 6),
                "text": f"{names[p.true]} → {names[p.predicted]} {p.rate:.1%}",
            }
            for p in pairs
        ]
        fields = ["true", "predicted", "count", "rate", "text"]
        atomic.write_csv(self.path(f"confused_pairs_{tag}.csv"), pair_rows, fields)
        history = [
            {
                "epoch": c["epoch"],
                "tag": c["tag"],
                "accuracy": c["accuracy"],
                **c["per_class_accuracy"],
            }
            for c in self.captures
        ]
        atomic.write_csv(self.path("accuracy.csv"), history, ["epoch", "tag", "accuracy", *names])
        atomic.write_json(self.path("report.json"), {"captures": self.captures})

    def _write_figures(self, tag, names, counts, accuracy, overall, probabilities) -> None:
        when = "before training" if tag == "epoch000" else tag
        if tag.startswith("epoch") and tag != "epoch000":
            when = f"after epoch {int(tag[5:])}"
        figures = {
            "per_class": plots.per_class_accuracy_figure(
                accuracy,
                names,
                overall,
                title=f"accuracy per class ({when}, {counts.sum()} examples)",
            ),
            "confusion": plots.confusion_matrix_figure(
                counts, names, title=f"confusion matrix ({when})"
            ),
            "errors_by_class": plots.errors_by_class_figure(
                counts, names, title=f"errors by true class ({when})"
            ),
        }
        images = self.data.ndim in (3, 4)  # grids only for image inputs (H, W[, C])
        if images and self.samples:
            rng = np.random.default_rng(self.seed)  # same examples at every capture
            picked = np.sort(
                rng.choice(len(self.data), min(self.samples, len(self.data)), replace=False)
            )
            figures["samples"] = plots.prediction_grid_figure(
                self.data[picked],
                self.labels[picked],
                probabilities[picked].argmax(-1),
                class_names=names,
                title=f"random examples ({when}): green right, red wrong",
            )
        wrong = np.flatnonzero(probabilities.argmax(-1) != self.labels)[: self.errors]
        if images and len(wrong):
            classes, values = top_k(probabilities[wrong], min(self.top_k, probabilities.shape[-1]))
            figures["errors"] = plots.prediction_grid_figure(
                self.data[wrong],
                self.labels[wrong],
                classes,
                values,
                class_names=names,
                title=f"wrong predictions ({when}): true class, then the top {classes.shape[1]}",
            )
        if images and self.class_scores:
            shown = slice(0, min(self.class_scores, len(self.data)))
            figures["class_scores"] = plots.class_scores_figure(
                self.data[shown],
                probabilities[shown],
                self.labels[shown],
                names,
                title=f"class scores ({when})",
            )
        for stem, figure in figures.items():
            atomic.write_figure(self.path(f"{stem}_{tag}.png"), figure)


def _number(value: float) -> float | None:
    """A float for CSV/JSON, None for NaN (a class with no examples)."""
    return None if np.isnan(value) else float(value)
