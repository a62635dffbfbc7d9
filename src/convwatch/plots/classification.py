"""Pictures of a classifier's results: accuracy bars, confusion matrix, image grids, class scores.

Arrays in (counts, labels, probabilities, images), matplotlib figures out; the numbers come from
the caller (`convwatch.techniques.confusion` computes them). Images may be normalised any way
(unit, standard): they are rescaled with one min/max over the whole batch, which undoes any
global affine scaling and keeps the images' contrast relative to each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from convwatch.plots.figure import colormap, new_figure

RIGHT, WRONG = "#1a7f37", "#c62828"  # green for a right prediction, red for a wrong one


def _name(label: Any, class_names: Sequence[str] | None) -> str:
    if class_names is not None and 0 <= int(label) < len(class_names):
        return str(class_names[int(label)])
    return str(int(label))


def _names(count: int, class_names: Sequence[str] | None) -> list[str]:
    return [_name(i, class_names) for i in range(count)]


def display_images(images: Any) -> np.ndarray:
    """Images `(n, H, W[, 1|3])` as float32 in [0, 1] for `imshow`, a 1-channel squeezed."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] != 3):
        raise ValueError(f"`images` must be (n, H, W) or (n, H, W, 1|3). Received: {x.shape}")
    low, high = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
    return (x - low) / (high - low) if high > low else np.zeros_like(x)


def _show(ax: Any, image: np.ndarray) -> None:
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0.0, vmax=1.0)
    ax.set_xticks([])
    ax.set_yticks([])


def per_class_accuracy_figure(
    accuracy: Any, class_names: Sequence[str] | None = None, overall: float | None = None, title=""
):
    """Horizontal bars of each class's accuracy `(k,)` in [0, 1], labelled in %, and the overall
    accuracy as a dashed line. A class with no examples (NaN) gets no bar and the label "n/a"."""
    acc = np.asarray(accuracy, dtype=np.float64)
    names = _names(len(acc), class_names)
    fig, ax = new_figure(1, 1, panel_size=(7.0, 0.45 * len(acc) + 1.4))
    rows = np.arange(len(acc))
    ax.barh(rows, np.nan_to_num(acc) * 100, color="#4c72b0")
    for row, value in zip(rows, acc, strict=True):
        text = "n/a" if np.isnan(value) else f"{value * 100:.1f}%"
        ax.text(min(np.nan_to_num(value) * 100 + 1, 101), row, text, va="center", fontsize=9)
    ax.set_yticks(rows, names)
    ax.set_ylim(len(acc) - 0.5, -1.3)  # class 0 on top, as in the confusion matrix; room above
    if overall is not None:
        ax.axvline(overall * 100, color="black", ls="--", lw=1)
        label = f"overall {overall:.1%}"
        box = {"facecolor": "white", "edgecolor": "none", "pad": 1}
        ax.text(overall * 100, -0.95, label, ha="center", va="center", fontsize=9, bbox=box)
    ax.set_xlim(0, 112)
    ax.set_xlabel("accuracy on the class's examples (%)")
    ax.set_title(title or "accuracy per class")
    fig.tight_layout()
    return fig


def confusion_matrix_figure(counts: Any, class_names: Sequence[str] | None = None, title=""):
    """Two panels: the confusion matrix in counts, and normalised by row (% of each true class).

    Rows are true classes, columns predictions; each cell is written in, in white on dark cells.
    """
    counts = np.asarray(counts)
    names = _names(len(counts), class_names)
    k = len(counts)
    fig, axes = new_figure(1, 2, panel_size=(0.62 * k + 2.6, 0.55 * k + 2.2))
    panels = (
        (counts, "counts", "{:d}"),
        (_row_percentages(counts), "% of the true class", "{:.1f}"),
    )
    for ax, (values, what, fmt) in zip(axes, panels, strict=True):
        ax.imshow(values, cmap="Blues")
        high = values.max() if values.size else 0
        for i in range(k):  # k <= a few dozen cells per side: drawing, not computing
            for j in range(k):
                v = values[i, j]
                text = fmt.format(int(v) if fmt == "{:d}" else float(v))
                colour = "white" if high and v > 0.5 * high else "black"
                ax.text(
                    j, i, text, ha="center", va="center", fontsize=7 if k > 6 else 9, color=colour
                )
        ax.set_xticks(range(k), names, rotation=45, ha="right")
        ax.set_yticks(range(k), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(what)
    fig.suptitle(title or "confusion matrix")
    fig.tight_layout()
    return fig


def _row_percentages(counts: np.ndarray) -> np.ndarray:
    """Each row as percentages of its total; a row with no examples stays all zero."""
    totals = counts.sum(axis=1, keepdims=True).astype(np.float64)
    return np.divide(100.0 * counts, totals, out=np.zeros(counts.shape), where=totals > 0)


def errors_by_class_figure(counts: Any, class_names: Sequence[str] | None = None, title=""):
    """The wrong predictions of each true class as one bar, split by what they were taken for."""
    counts = np.asarray(counts)
    k = len(counts)
    names = _names(k, class_names)
    off = counts * (1 - np.eye(k, dtype=counts.dtype))
    colours = colormap("tab10" if k <= 10 else "tab20")
    fig, ax = new_figure(1, 1, panel_size=(8.0, 0.45 * k + 1.6))
    left = np.zeros(k)
    for j in range(k):
        if off[:, j].any():
            ax.barh(range(k), off[:, j], left=left, color=colours(j % colours.N), label=names[j])
            left += off[:, j]
    for i, total in enumerate(left):
        ax.text(total + 0.3, i, f"{int(total)}", va="center", fontsize=9)
    ax.set_yticks(range(k), names)
    ax.invert_yaxis()
    ax.set_xlim(0, max(left.max(), 1) * 1.12)
    ax.set_xlabel("wrong predictions (coloured by the class predicted)")
    ax.set_title(title or "errors by true class")
    if off.any():
        ax.legend(title="predicted as", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    fig.tight_layout()
    return fig


def prediction_grid_figure(
    images: Any,
    true: Any,
    top_classes: Any,
    top_values: Any | None = None,
    class_names: Sequence[str] | None = None,
    cols: int = 8,
    title: str = "",
):
    """A grid of images, each captioned with its prediction and true class.

    Args:
        images: `(n, H, W[, C])`, any scaling.
        true: true class ids `(n,)`.
        top_classes: predicted class ids, `(n,)` or `(n, k)` most probable first.
        top_values: the probabilities `(n, k)` of `top_classes`; when given, each caption lists
            the k classes with their probabilities (the wrong-prediction grid).
        class_names: names for the ids.
        cols: panels per row. Defaults to 8.
    """
    shown = display_images(images)
    true = np.asarray(true).reshape(-1)
    top = np.asarray(top_classes).reshape(len(true), -1)
    n = len(shown)
    cols = max(1, min(cols, n))
    rows = max(1, -(-n // cols))
    lines = 1 + (top.shape[1] if top_values is not None else 1)
    # room above each image for its caption lines, so a caption never covers the row above
    fig, axes = new_figure(rows, cols, panel_size=(1.9, 2.0 + 0.2 * lines), squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index >= n:
            ax.axis("off")
            continue
        _show(ax, shown[index])
        right = top[index, 0] == true[index]
        if top_values is None:
            predicted, actual = _name(top[index, 0], class_names), _name(true[index], class_names)
            caption = f"pred: {predicted}\ntrue: {actual}"
        else:
            ranked = [
                f"{_name(c, class_names)} {p:.0%}"
                for c, p in zip(top[index], np.asarray(top_values)[index], strict=True)
            ]
            caption = f"true: {_name(true[index], class_names)}\n" + "\n".join(ranked)
        ax.set_title(caption, fontsize=8, color=RIGHT if right else WRONG)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def class_scores_figure(
    images: Any, probabilities: Any, true: Any, class_names: Sequence[str] | None = None, title=""
):
    """One row per image: the image, and a bar chart of its class scores (softmax outputs).

    The true class's bar is green, a wrong top prediction red, the rest grey.
    """
    shown = display_images(images)
    probs = np.asarray(probabilities, dtype=np.float64)
    true = np.asarray(true).reshape(-1)
    n, k = probs.shape
    names = _names(k, class_names)
    fig, axes = new_figure(
        n, 2, panel_size=(3.2, 2.0), squeeze=False, gridspec_kw={"width_ratios": [1, 3.2]}
    )
    for row in range(n):
        _show(axes[row, 0], shown[row])
        colours = ["#9e9e9e"] * k
        predicted = int(probs[row].argmax())
        colours[predicted] = WRONG
        colours[int(true[row])] = RIGHT
        ax = axes[row, 1]
        ax.bar(range(k), probs[row], color=colours)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(range(k), names, rotation=30 if max(map(len, names)) > 2 else 0, fontsize=8)
        ax.set_ylabel("score")
        score = probs[row, predicted]
        ax.set_title(
            f"true {names[int(true[row])]}, predicted {names[predicted]} ({score:.0%})",
            fontsize=9,
            color=RIGHT if predicted == int(true[row]) else WRONG,
        )
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
