"""Static HTML pages: one per run (`index.html`), a comparison, a sweep, and the results index.

Every page is a single file with relative links to the run folders' own files: it opens from
the file system and from any web server rooted above the runs (`python -m http.server`). A run
folder that is failed, interrupted, partial or old gets a page with what it has, and a note of
what is missing. Pages are written through `convwatch.base.atomic`, atomically.
"""

from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from convwatch.base import atomic, layout
from convwatch.errors import ConvwatchError
from convwatch.report.html import (
    PALETTE,
    Line,
    esc,
    facts,
    figure,
    href,
    line_chart,
    page,
    status_badge,
    table,
)
from convwatch.report.reader import (
    IMAGE_SUFFIXES,
    Artifact,
    Run,
    compare_table,
    find_runs,
    find_sweeps,
    is_run,
    load_run,
    lower_is_better,
    resume_hint,
    runs_below,
    show,
)

INDEX = "index.html"
INDEX_TITLE = "convwatch runs"
COMPARE = "compare.html"
SWEEP_JSON = "sweep.json"
# Told of a folder that cannot be read in full, or whose page cannot be written: (folder, why).
Warn = Callable[[Path, str], None]

# What each capture folder is, and captions by file-name pattern: {layer}, {tag}, {name}.
GROUPS = {
    "curves": "Training curves drawn by the runner from history.csv.",
    "ActivationCapture": "Feature maps of a fixed probe batch, captured as training goes.",
    "FilterEvolution": "The first conv layer's kernels (and one probe image's feature maps) "
    "at every snapshot.",
    "FilterMaximization": "The filter atlas: for each filter of a conv layer, the input that "
    "excites it, found by gradient ascent, beside the training images it fires on most.",
    "EmbeddingProjector": "How the penultimate layer arranges the test images, in 2-D.",
    "ClassificationReport": "Which classes the model gets right, which it confuses, and "
    "examples of both.",
    "PixelTracker": "Chosen output pixels' values at every training step, against the target.",
    "OutputEvolution": "The network's output image as training goes.",
    "WeightRange": "The smallest and largest weight of each layer as training goes.",
    "Interpretation": "Why the model predicts what it does: the pixels and regions each "
    "prediction rests on, one row per image.",
    "PartialOutputs": "One image's feature maps after each chosen layer, side by side.",
    "LayerShapes": "Every layer's output shape and parameter count.",
    "DeepDream": "A photo changed by gradient ascent so that the chosen layers fire harder.",
    "StyleTransfer": "One picture's layout in another's colours and textures, optimised pixel "
    "by pixel.",
}
CAPTIONS: dict[str, list[tuple[str, str]]] = {
    "curves": [(r"curves\.png", "Loss and accuracy per epoch, training and validation.")],
    "ActivationCapture": [
        (r"activations_{tag}\.npz", "Every captured layer's output for the probe batch, {tag}."),
        (r"(?P<layer>.+)_{tag}\.png", "{layer}: one probe image's feature maps, {tag}."),
    ],
    "FilterEvolution": [
        (
            r"(?P<layer>.+)_filters\.gif",
            "{layer}: every kernel at each snapshot, animated; one gray scale for the whole "
            "run (mid-gray is 0).",
        ),
        (r"(?P<layer>.+)_filters\.png", "{layer}: the kernels at the last snapshot."),
        (
            r"(?P<layer>.+)_feature_maps\.gif",
            "{layer}: one probe image's feature maps at each snapshot, animated.",
        ),
        (r"(?P<layer>.+)_kernels\.npz", "{layer}: the kernels at every snapshot, and the tags."),
    ],
    "FilterMaximization": [
        (r"(?P<layer>[^/]+)\.gif", "{layer}: the filter atlas capture by capture, animated."),
        (
            r"(?P<layer>.+)_{tag}\.png",
            "{layer}, {tag}: one tile per filter, labelled with its index and its peak "
            "activation on the probe images. Left (orange outline): the faintest input that "
            "excites the filter's centre unit as much as its best exemplar, cropped to the "
            "unit's receptive field (mid-grey is 0.5, no change). Right: its exemplars, the "
            "probe-image patches (one per image, that unit's receptive field) where the filter "
            "fires most, best first. A 'dead' tile: a filter whose activation is 0 or less at "
            "every position of every probe image.",
        ),
        (
            r"(?P<layer>.+)_{tag}\.npz",
            "{layer}, {tag}: the optimised inputs, the receptive field, dead filters, the "
            "exemplar patches, their image indices, positions and activations.",
        ),
    ],
    "EmbeddingProjector": [
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
    ],
    "ClassificationReport": [
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
    ],
    "Interpretation": [
        (
            r"saliency_{tag}\.png",
            "Saliency, {tag}: one row per image, titled with its true class, the predicted "
            "class and their probabilities; then how much each pixel moves p(true class) "
            "(|gradient|, the colour bar in its units, each row on its own scale) and that map "
            "over the image.",
        ),
        (
            r"smoothgrad_{tag}\.png",
            "SmoothGrad, {tag}: as the saliency figure, with the gradient averaged over noisy "
            "copies of each image before its size is taken, which removes most of the speckle.",
        ),
        (
            r"occlusion_{tag}\.png",
            "Occlusion, {tag}: per image (titled with its true and predicted class), the drop in "
            "p(true class) when a square patch hides each pixel, on a scale centred on 0 that "
            "the row's maps share: red, hiding it lowers p(true); blue, raises it. Left: a grey "
            "patch; right: a patch of the background's value (the commonest border pixel), "
            "which changes nothing where it covers only background, so its red marks the "
            "object's evidence. The black line outlines the object.",
        ),
        (
            r"grad_cam_{tag}\.png",
            "Grad-CAM, {tag}: per image (titled with its true and predicted class), where the "
            "conv layer named above the column holds evidence for the true class (1 = the "
            "row's peak), and that map over the image; a row with no positive evidence says so.",
        ),
        (
            r"guided_backprop_{tag}\.png",
            "Guided backpropagation, {tag}: per image (titled with its true and predicted "
            "class), the gradient of p(true class) through ReLUs that pass only positive "
            "gradients, on a scale centred on 0: red, a brighter pixel there raises p(true).",
        ),
        (
            r"interpretation_{tag}\.npz",
            "Every map as arrays, {tag}, with the images, true labels, predicted classes, the "
            "probabilities (all, p_true, p_predicted) and the two occlusion patches' values.",
        ),
    ],
    "PartialOutputs": [
        (r"stages_{tag}\.png", "Rows: channels; columns: the layers in order, {tag}."),
        (r"stages_{tag}\.npz", "Each layer's maps as arrays, {tag}."),
    ],
    "DeepDream": [
        (r"dream_{tag}\.png", "The photo (left) and its dream, {tag}."),
        (r"loss_{tag}\.png", "The activation being grown, step by step at each octave, {tag}."),
        (r"dream_{tag}\.npz", "Photo, dream and per-step activation as arrays, {tag}."),
    ],
    "StyleTransfer": [
        (r"style_transfer_{tag}\.png", "Content, style and the result, {tag}."),
        (r"loss_{tag}\.png", "Content, style and total loss per step, {tag}."),
        (r"style_transfer_{tag}\.npz", "Content, style, result and losses as arrays, {tag}."),
    ],
}
_TAG = r"(?P<tag>epoch\d+|step\d+)"


def describe_tag(tag: str | None) -> str:
    if not tag:
        return ""
    number = int(re.sub(r"\D", "", tag))
    if tag.startswith("epoch"):
        return "untrained (epoch 0)" if number == 0 else f"after epoch {number}"
    return f"after step {number}"


def caption(artifact: Artifact) -> str:
    """What the picture or file is, in words, from its callback and file name."""
    for pattern, text in CAPTIONS.get(artifact.group, []):
        match = re.fullmatch(pattern.replace("{tag}", _TAG), artifact.name)
        if match:
            found = match.groupdict()
            found["tag"] = describe_tag(found.get("tag"))
            return text.format(name=artifact.name, **found)
    words = artifact.series.replace("_", " ").replace("/", ", ")
    return f"{words}, {describe_tag(artifact.tag)}" if artifact.tag else words


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


# --------------------------------------------------------------------------- curves
def _curve_names(history: Sequence[dict[str, float]]) -> list[str]:
    keys = list(dict.fromkeys(k for row in history for k in row))
    names = [k[4:] if k.startswith("val_") else k for k in keys if k not in ("epoch", "step")]
    names = list(dict.fromkeys(names))
    return sorted(names, key=lambda n: (n != "loss", names.index(n)))


def _points(history: Sequence[dict[str, float]], key: str) -> list[tuple[float, float]]:
    points = []
    for i, row in enumerate(history, 1):
        if key in row:
            points.append((row.get("epoch", row.get("step", i)), row[key]))
    return points


def _x_label(runs: Sequence[Run]) -> str:
    rows = [row for r in runs for row in r.history]
    return "epoch" if any("epoch" in row for row in rows) or not rows else "step"


def run_curves(run: Run) -> str:
    if not run.history:
        return "<p class='muted'>No history.csv rows: nothing to draw.</p>"
    charts = []
    for name in _curve_names(run.history):
        lines = [
            Line("train", PALETTE[0], _points(run.history, name)),
            Line("validation", PALETTE[1], _points(run.history, f"val_{name}"), dashed=True),
        ]
        charts.append(line_chart(name, [x for x in lines if x.points], _x_label([run])))
    return f"<div class='charts'>{''.join(charts)}</div>"


def overlaid_curves(runs: Sequence[Run], labels: Sequence[str]) -> str:
    """One chart per metric: every run's training (solid) and validation (dashed) line."""
    names = list(dict.fromkeys(n for r in runs for n in _curve_names(r.history)))
    if not names:
        return "<p class='muted'>None of these runs has a history.csv with rows.</p>"
    charts = []
    key = [Line(label, PALETTE[i % len(PALETTE)], []) for i, label in enumerate(labels)]
    for name in names:
        lines = []
        for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
            color = PALETTE[i % len(PALETTE)]
            lines.append(Line(f"{label} train", color, _points(run.history, name)))
            lines.append(
                Line(f"{label} val", color, _points(run.history, f"val_{name}"), dashed=True)
            )
        charts.append(line_chart(name, [x for x in lines if x.points], _x_label(runs), key))
    return (
        "<p class='muted'>Solid: training; dashed: validation. Hover a point for its value.</p>"
        f"<div class='charts'>{''.join(charts)}</div>"
    )


# --------------------------------------------------------------------------- run page
def _problems(run: Run) -> str:
    problems = [p for p in run.problems if not (run.status == "dead" and p.startswith("dead: "))]
    if not problems:
        return ""
    items = "".join(f"<li>{esc(p)}</li>" for p in problems)
    return f"<div class='note'><b>This run folder is incomplete:</b><ul>{items}</ul></div>"


def _dead(run: Run) -> str:
    """Why a run whose run.json says running is called dead, and how to go on from it."""
    if run.status != "dead":
        return ""
    return (
        f"<div class='note bad'><b>dead:</b> {esc(run.status_reason)}.<br>"
        f"{esc(resume_hint(run))}.</div>"
    )


def _error(run: Run) -> str:
    error = run.record.get("error")
    if not error:
        return ""
    trace = run.record.get("traceback")
    details = f"<details><summary>traceback</summary><pre>{esc(trace)}</pre></details>"
    return (
        f"<div class='note bad'><b>{esc(run.status)}:</b> <code>{esc(error)}</code>"
        f"{details if trace else ''}</div>"
    )


def _notes(run: Run) -> str:
    """What the run says about itself (a fallback network in place of ImageNet weights)."""
    notes = run.record.get("notes") or []
    notes = notes if isinstance(notes, list) else [notes]
    return "".join(f"<div class='note'>{esc(str(note))}</div>" for note in notes)


def _overview(run: Run) -> str:
    record, fit = run.record, run.config.get("fit") or {}
    epochs = record.get("epochs_completed")
    planned = fit.get("epochs") if isinstance(fit, dict) else None
    data, loaded = record.get("data_source"), record.get("model_from")
    if data and record.get("data_full") is False:
        data = f"{data} — not the full dataset"
    pid, host = run.verdict.pid, run.verdict.host
    status = run.status
    if status != run.recorded_status:
        status = f"{status} (run.json says {run.recorded_status})"
    return facts(
        {
            "status": status,
            **({"process": f"{pid} on host {host or 'unknown'}"} if pid is not None else {}),
            "started": record.get("started"),
            "ended": record.get("ended"),
            "duration": f"{run.duration_s:.1f} s" if run.duration_s is not None else None,
            "epochs": f"{epochs} of {planned}" if epochs is not None and planned else epochs,
            "seed": record.get("seed"),
            "command": record.get("command"),
            "data": data,
            **({"model": loaded["file"]} if isinstance(loaded, dict) and "file" in loaded else {}),
        }
    )


def _metrics(run: Run) -> str:
    if not run.metrics:
        return "<p class='muted'>No metrics: metrics.json and history.csv are both absent.</p>"
    out = table(["metric", "value"], [(k, show(v)) for k, v in run.metrics.items()], [False, True])
    if run.references:
        out += "<h3>Against the source document</h3>" + table(
            ["", "source", "the document says", "this run"],
            [
                (
                    r.get("label", r.get("metric")),
                    r.get("source"),
                    r.get("reference_text", show(r.get("reference"))),
                    r.get("this_run_text", show(r.get("this_run"))),
                )
                for r in run.references
            ],
        )
    for name, summary in run.summaries.items():
        text = json.dumps(summary, indent=2, default=str)
        out += f"<h3>{esc(name)}</h3><details><summary>summary</summary><pre>{esc(text)}</pre>"
        out += "</details>"
    return out


def _artifact_section(run: Run, base: Path, groups: dict[str, list[Artifact]]) -> str:
    if not groups:
        return "<p class='muted'>No artifacts/ folder, or nothing in it.</p>"
    out = []
    for group, items in groups.items():
        out.append(f"<h3 id='{esc('a-' + group)}'>{esc(group or 'artifacts')}</h3>")
        if group in GROUPS:
            out.append(f"<p class='muted'>{esc(GROUPS[group])}</p>")
        images = [a for a in items if a.is_image and not a.name.startswith("projector/")]
        series = list(dict.fromkeys(a.series for a in images))
        for name in series:
            members = [a for a in images if a.series == name]
            figures = "".join(figure(a.path, base, caption(a)) for a in members)
            strip = " series" if len(members) > 1 else ""
            out.append(f"<div class='figures{strip}'>{figures}</div>")
        files = [a for a in items if a not in images]
        if files:
            out.append(
                table(
                    ["file", "size", "what it is"],
                    [
                        (
                            f"<a href='{href(a.path, base)}'>{esc(a.name)}</a>",
                            _size(a.size),
                            esc(caption(a)),
                        )
                        for a in files
                    ],
                    raw=True,
                )
            )
    return "".join(out)


def _grouped(artifacts: Sequence[Artifact]) -> dict[str, list[Artifact]]:
    groups: dict[str, list[Artifact]] = {}
    for artifact in artifacts:
        groups.setdefault(artifact.group, []).append(artifact)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] != "curves", kv[0])))


def _files(run: Run, base: Path) -> str:
    rows = []
    for name in RUN_FILES:
        path = run.path / name
        if path.is_file() and not path.is_symlink():
            rows.append(
                (f"<a href='{href(path, base)}'>{esc(name)}</a>", _size(path.stat().st_size))
            )
        else:
            rows.append((esc(name), "missing"))
    tensorboard = run.path / layout.TENSORBOARD_DIR
    text = table(["file", "size"], rows, raw=True)
    if tensorboard.is_dir():
        text += (
            "<p>TensorBoard event files are in <code>tensorboard/</code>: "
            "<code>tensorboard --logdir tensorboard</code> from this folder, or "
            "<code>tensorboard --logdir results/</code> to compare every run.</p>"
        )
    summary = run.path / layout.SUMMARY_TXT
    if summary.is_file() and not summary.is_symlink():
        text += (
            "<details><summary>model.summary()</summary>"
            f"<pre>{esc(summary.read_text(encoding='utf-8', errors='replace'))}</pre></details>"
        )
    return text


RUN_FILES = (
    layout.RUN_JSON,
    layout.CONFIG_JSON,
    layout.HISTORY_CSV,
    layout.METRICS_JSON,
    layout.SUMMARY_TXT,
    layout.MODEL_FILE,
)
ENVIRONMENT = (
    "git_commit", "python", "tensorflow", "keras", "keras_backend", "numpy", "host", "platform",
    "device",
)  # fmt: skip


def render_run(run: Run, crumbs: str = "") -> str:
    """The report page of one run, to be saved as `<run>/index.html`."""
    base = run.path
    groups = _grouped(run.artifacts)
    toc = ["metrics", "curves", "artifacts", "config", "environment", "files"]
    body = [
        f"<h1>{esc(run.experiment)} <span class='muted'>{esc(run.run_id)}</span> "
        f"{status_badge(run.status, run.status_reason if run.status == 'dead' else '')}</h1>",
        f"<p>{esc(run.config.get('description', ''))}</p>" if run.config.get("description") else "",
        "<nav class='toc'>" + "".join(f"<a href='#{t}'>{t}</a>" for t in toc) + "</nav>",
        _dead(run),
        _error(run),
        _problems(run),
        _notes(run),
        _overview(run),
        "<h2 id='metrics'>Metrics</h2>",
        _metrics(run),
        "<h2 id='curves'>Curves</h2>",
        run_curves(run),
        "<h2 id='artifacts'>Artifacts</h2>",
        (
            "<p>"
            + " · ".join(f"<a href='#{esc('a-' + g)}'>{esc(g or 'artifacts')}</a>" for g in groups)
            + "</p>"
        )
        if groups
        else "",
        _artifact_section(run, base, groups),
        "<h2 id='config'>Config</h2>",
        table(["key", "value"], [(k, show(v)) for k, v in run.settings().items()])
        if run.config
        else "<p class='muted'>No config.json.</p>",
        "<h2 id='environment'>Environment</h2>",
        facts({k: run.record.get(k) for k in ENVIRONMENT}),
        "<h2 id='files'>Files</h2>",
        _files(run, base),
    ]
    return page(f"{run.experiment} {run.run_id}: {run.status}", "".join(body), crumbs)


def _crumbs(folder: Path, levels: Sequence[tuple[Path, str]]) -> str:
    links = [f"<a href='{href(p, folder)}'>{esc(label)}</a>" for p, label in levels if p.is_file()]
    return f"<nav class='crumbs'>{' › '.join(links)}</nav>" if links else ""


def _results_index(folder: Path) -> list[tuple[Path, str]]:
    """The nearest results index above `folder` (at most 3 levels up) that convwatch wrote."""
    for parent in list(folder.parents)[:3]:
        try:
            with open(parent / INDEX, encoding="utf-8", errors="replace") as f:
                head = f.read(2000)
        except OSError:
            continue
        if f"<title>{INDEX_TITLE}</title>" in head:
            return [(parent / INDEX, "all runs")]
    return []


def results_root(folder: Path) -> Path | None:
    """The folder of the nearest results index above `folder` that convwatch wrote, or None."""
    found = _results_index(folder)
    return found[0][0].parent if found else None


def _up_links(run_path: Path) -> str:
    levels = _results_index(run_path)
    if (run_path.parent / "sweep.json").is_file():
        levels.append((run_path.parent / INDEX, "this sweep"))
    return _crumbs(run_path, levels)


def _ignore(folder: Path, problem: str) -> None:
    """The default `warn`: the pages themselves say what is wrong with a folder."""


def write_run_report(run_path: str | os.PathLike[str], *, warn: Warn | None = None) -> Path:
    """(Re)write `<run>/index.html` from what the run folder holds now. A file that is
    unreadable or of the wrong shape is named on the page and told to `warn`."""
    return _write_run(load_run(run_path), warn or _ignore)


def _write_run(run: Run, warn: Warn) -> Path:
    for problem in run.damaged:
        warn(run.path, problem)
    try:
        text = render_run(run, _up_links(run.path))
    except Exception as error:  # a shape no check foresaw: a plain page still says what is wrong
        problem = f"its page could not be drawn in full ({type(error).__name__}: {error})"
        warn(run.path, problem)
        text = page(
            f"{run.run_id}: {run.status}",
            f"<h1>{esc(run.run_id)} {status_badge(run.status)}</h1>"
            f"<div class='note bad'>{esc(problem)}</div>{_problems(run)}",
        )
    return atomic.write_text(run.path / INDEX, text)


def _guarded(folder: Path, warn: Warn, write: Callable[[], Path]) -> Path | None:
    """`write()`, or None and a warning for `folder` when it raises: one folder that cannot be
    read or written never stops the pages of the others."""
    try:
        return write()
    except Exception as error:
        warn(folder, f"page not written ({type(error).__name__}: {error})")
        return None


# --------------------------------------------------------------------------- comparison
def _labels(runs: Sequence[Run], keys: Sequence[str]) -> list[str]:
    labels = []
    for i, run in enumerate(runs, 1):
        settings = run.settings()
        diff = ", ".join(f"{k.split('.')[-1]}={show(settings.get(k))}" for k in keys[:3])
        labels.append(f"#{i} {diff}" if diff else f"#{i} {run.run_id}")
    return labels


def _run_link(run: Run, base: Path) -> str:
    report = run.path / INDEX
    target = report if report.is_file() else run.path
    return f"<a href='{href(target, base)}'>{esc(run.run_id)}</a>"


def _swatch(i: int) -> str:
    return f"<span class='swatch' style='background:{PALETTE[i % len(PALETTE)]}'></span>"


def _ranked(name: str) -> bool:
    """Whether a metric has a best value (accuracy, loss, ...), unlike `epochs` or `params`."""
    words = ("acc", "auc", "precision", "recall", "f1", "iou", "score")
    return not name.startswith("initial_") and (
        lower_is_better(name) or any(w in name for w in words)
    )


def _metric_table(runs: Sequence[Run], names: Sequence[str], labels: Sequence[str]) -> str:
    header = ["metric", *(f"{_swatch(i)}{esc(label)}" for i, label in enumerate(labels))]
    body = []
    for name in names:
        values = [r.metrics.get(name) for r in runs]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        best = None
        if len(set(numbers)) > 1 and _ranked(name):
            best = min(numbers) if lower_is_better(name) else max(numbers)
        cells = [
            f"<b>{esc(show(v))}</b>" if best is not None and v == best else esc(show(v))
            for v in values
        ]
        body.append([esc(name), *cells])
    return table(header, body, [False, *([True] * len(runs))], raw=True)


def _side_by_side(runs: Sequence[Run], base: Path, labels: Sequence[str]) -> str:
    """Images of the same name next to each other: for a series of captures (`conv1_epoch003`),
    each run's last one."""
    picked: dict[tuple[str, str], dict[int, Artifact]] = {}
    for i, run in enumerate(runs):
        for artifact in run.artifacts:
            if not artifact.is_image or artifact.name.startswith("projector/"):
                continue
            key = (artifact.group, artifact.series if artifact.tag else artifact.name)
            current = picked.setdefault(key, {}).get(i)
            if current is None or (artifact.tag or "") > (current.tag or ""):
                picked[key][i] = artifact
    if not picked:
        return "<p class='muted'>No images in these runs' artifacts/ folders.</p>"
    out = []
    for group in dict.fromkeys(g for g, _ in sorted(picked, key=lambda k: (k[0] != "curves", k))):
        out.append(f"<h3>{esc(group or 'artifacts')}</h3>")
        for key in [k for k in picked if k[0] == group]:
            cells = []
            for i in range(len(runs)):
                artifact = picked[key].get(i)
                head = f"<div>{_swatch(i)}<b>{esc(labels[i])}</b></div>"
                body = (
                    figure(artifact.path, base, caption(artifact), target_width=360)
                    if artifact
                    else "<p class='missing'>not in this run</p>"
                )
                cells.append(f"<div>{head}{body}</div>")
            out.append(f"<h4>{esc(key[1])}</h4><div class='side'>{''.join(cells)}</div>")
    return "".join(out)


def render_compare(runs: Sequence[Run], base: Path, title: str = "", intro: str = "") -> str:
    """The comparison page of `runs`, to be saved in folder `base`."""
    compared = compare_table(runs)
    runs, keys = compared.runs, compared.keys
    labels = _labels(runs, keys)
    header = ["", "run", "experiment", "status", *keys, *compared.metrics, "duration"]
    body = []
    for i, run in enumerate(runs):
        settings = run.settings()
        body.append(
            [
                f"<span class='nowrap'>{_swatch(i)}#{i + 1}</span>",
                _run_link(run, base),
                esc(run.experiment),
                status_badge(run.status, run.status_reason if run.status == "dead" else ""),
                *(esc(show(settings.get(k))) for k in keys),
                *(esc(show(run.metrics.get(m))) for m in compared.metrics),
                esc(f"{run.duration_s:.1f} s" if run.duration_s is not None else "—"),
            ]
        )
    numeric = [False] * (4 + len(keys)) + [True] * (len(compared.metrics) + 1)
    all_keys = list(dict.fromkeys(k for r in runs for k in r.settings()))
    same = [k for k in all_keys if k not in keys]
    config = (
        table(
            ["key", *(f"{_swatch(i)}{esc(label)}" for i, label in enumerate(labels))],
            [[esc(k), *(esc(show(r.settings().get(k))) for r in runs)] for k in keys],
            raw=True,
        )
        if keys
        else "<p>The runs' configs are the same.</p>"
    )
    if same:
        config += (
            f"<details><summary>{len(same)} {'key has' if len(same) == 1 else 'keys have'} "
            "the same value in every run</summary>"
            + table(["key", "value"], [(k, show(runs[0].settings().get(k))) for k in same])
            + "</details>"
        )
    problems = "".join(
        f"<div class='note'>{_swatch(i)}<b>{esc(labels[i])}</b> ({esc(run.run_id)}) is "
        f"incomplete:<ul>{''.join(f'<li>{esc(p)}</li>' for p in run.problems)}</ul></div>"
        for i, run in enumerate(runs)
        if run.problems
    )
    every_metric = list(dict.fromkeys(k for r in runs for k in r.metrics))
    parts = [
        f"<h1>{esc(title or f'Comparing {len(runs)} runs')}</h1>",
        intro,
        "<nav class='toc'>"
        + "".join(
            f"<a href='#{t}'>{t}</a>" for t in ("runs", "config", "metrics", "curves", "artifacts")
        )
        + "</nav>",
        "<h2 id='runs'>Runs</h2>",
        table(header, body, numeric, raw=True),
        problems,
        "<h2 id='config'>Config: what differs</h2>",
        config,
        "<h2 id='metrics'>Metrics</h2>",
        _metric_table(runs, every_metric, labels)
        if every_metric
        else "<p class='muted'>No run has metrics.</p>",
        "<h2 id='curves'>Curves</h2>",
        overlaid_curves(runs, labels),
        "<h2 id='artifacts'>Artifacts side by side</h2>",
        _side_by_side(runs, base, labels),
    ]
    return page(title or f"convwatch: comparing {len(runs)} runs", "".join(parts))


def write_compare_report(
    runs: Sequence[Run], out: str | os.PathLike[str], title: str = "", intro: str = ""
) -> Path:
    """Write the comparison page to `out` (a file, or a folder that gets `compare.html`)."""
    out = Path(out)
    if out.is_dir() or out.suffix.lower() not in (".html", ".htm"):
        out = out / COMPARE
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic.write_text(out, render_compare(runs, out.parent, title, intro))


def _sweep_files(sweep: Path) -> str:
    """What the runner wrote beside the sweep's runs (overlaid curves, a table, verdicts)."""
    out = []
    for path in sorted(sweep.iterdir()):
        if path.is_symlink() or not path.is_file() or path.name.startswith("."):
            continue
        if path.name in (INDEX, SWEEP_JSON):
            continue
        if path.suffix.lower() in IMAGE_SUFFIXES:
            out.append(f"<div class='figures'>{figure(path, sweep, path.name)}</div>")
        elif path.suffix == ".txt" and path.stat().st_size < 100_000:
            text = path.read_text(encoding="utf-8", errors="replace")
            out.append(f"<p><b>{esc(path.name)}</b></p><pre>{esc(text)}</pre>")
        else:
            out.append(f"<p><a href='{href(path, sweep)}'>{esc(path.name)}</a></p>")
    return "".join(out)


def write_sweep_report(sweep: str | os.PathLike[str], *, warn: Warn | None = None) -> Path:
    """`<sweep>/index.html`: the sweep's runs compared, with the sweep's overrides; the runs'
    own pages are rewritten too, so that each links up to it."""
    sweep, warn = Path(sweep), warn or _ignore
    paths = runs_below(sweep)
    if not (sweep / INDEX).is_file():
        _write_sweep_page(sweep, paths, warn)  # first, so that the run pages can link to it
    for path in paths:
        _guarded(path, warn, lambda path=path: write_run_report(path, warn=warn))
    return _write_sweep_page(sweep, paths, warn)


def _sweep_listing(sweep: Path, warn: Warn) -> dict[str, Any]:
    """sweep.json as a dict ({} when it is missing, unreadable or of the wrong shape: warned)."""
    path = sweep / SWEEP_JSON
    if not path.is_file():
        return {}
    try:
        listing = atomic.read_json(path)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        warn(sweep, f"{SWEEP_JSON} could not be read ({type(error).__name__}: {error})")
        return {}
    if not isinstance(listing, dict):
        warn(sweep, f"{SWEEP_JSON} is not a JSON object: it holds {type(listing).__name__}")
        return {}
    return listing


def _sweep_points(sweep: Path, listing: dict[str, Any], runs: Sequence[Run]) -> str:
    """sweep.json's points, each with the status its run folder says now: a point listed as
    running whose run was killed shows `dead`. Names in sweep.json are only looked up among
    the run folders found in the sweep, never followed as paths."""
    points = listing.get("runs")
    if not isinstance(points, list) or not points:
        return ""
    found = {run.path.name: run for run in runs}
    body = []
    for number, point in enumerate(points, 1):
        point = point if isinstance(point, dict) else {}
        name, listed = point.get("run"), str(point.get("status") or "unknown")
        run = found.get(name) if isinstance(name, str) else None
        if run is None:
            status, note = status_badge(listed), "<span class='muted'>no such run folder</span>"
            link = esc(name if isinstance(name, str) else "—")
        else:
            reason = run.status_reason if run.status == "dead" else ""
            status, link = status_badge(run.status, reason), _run_link(run, sweep)
            note = esc(reason)
            if listed != run.status:
                note = f"<span class='muted'>sweep.json says {esc(listed)}</span> {note}"
        body.append([str(number), esc(point.get("label", "")), link, status, note])
    planned = listing.get("planned")
    started = f"{len(points)} of {planned} points started" if isinstance(planned, int) else ""
    return f"<h2 id='points'>Points</h2><p class='muted'>{esc(started)}</p>" + table(
        ["#", "point", "run", "status", ""], body, raw=True
    )


def _write_sweep_page(sweep: Path, paths: Sequence[Path], warn: Warn) -> Path:
    runs = []
    for path in paths:
        try:
            runs.append(load_run(path))
        except Exception as error:
            warn(path, f"could not be read ({type(error).__name__}: {error})")
    listing = _sweep_listing(sweep, warn)
    overrides = listing.get("overrides")
    overrides = " ".join(map(str, overrides)) if isinstance(overrides, list) else ""
    intro = f"<p>Overrides: <code>{esc(overrides)}</code></p>" if overrides else ""
    intro = (
        _crumbs(sweep, _results_index(sweep))
        + intro
        + _sweep_points(sweep, listing, runs)
        + _sweep_files(sweep)
    )
    title = f"Sweep {sweep.name}"
    if not runs:
        return atomic.write_text(
            sweep / INDEX, page(title, f"<h1>{esc(title)}</h1>{intro}<p>No runs yet.</p>")
        )
    return write_compare_report(runs, sweep / INDEX, title, intro)


# --------------------------------------------------------------------------- results index
def render_index(root: Path, runs: Sequence[Run], sweeps: Sequence[Path]) -> str:
    """Every run under `root`, newest first, with links to their pages."""
    runs = sorted(runs, key=lambda r: (r.started, r.run_id), reverse=True)
    metrics = [
        m for m in ("test_accuracy", "test_error", "test_loss") if any(m in r.metrics for r in runs)
    ]
    header = ["started", "experiment", "run", "status", *metrics, "duration", "sweep"]
    body = []
    for run in runs:
        sweep = run.sweep
        sweep_link = (
            f"<a href='{href(sweep / INDEX, root)}'>{esc(sweep.name)}</a>"
            if sweep and (sweep / INDEX).is_file()
            else esc(sweep.name if sweep else "")
        )
        body.append(
            [
                esc(str(run.record.get("started") or "—").replace("T", " ")[:19]),
                esc(run.experiment),
                _run_link(run, root),
                _status_cell(run),
                *(esc(show(run.metrics.get(m))) for m in metrics),
                esc(f"{run.duration_s:.1f} s" if run.duration_s is not None else "—"),
                sweep_link,
            ]
        )
    numeric = [False] * 4 + [True] * (len(metrics) + 1) + [False]
    sweep_items = "".join(
        f"<li><a href='{href(s / INDEX, root)}'>{esc(s.relative_to(root).as_posix())}</a></li>"
        if (s / INDEX).is_file()
        else f"<li>{esc(s.relative_to(root).as_posix())}</li>"
        for s in sweeps
    )
    body_html = (
        f"<h1>convwatch runs <span class='muted'>{len(runs)}</span></h1>"
        "<p>Newest first. Compare any of them with <code>convwatch compare RUN RUN ... "
        '--out compare.html</code> (or <code>make compare RUNS="..."</code>); '
        "<code>tensorboard --logdir .</code> here shows every run's curves.</p>"
        + (table(header, body, numeric, raw=True) if runs else "<p>No runs yet.</p>")
        + (f"<h2>Sweeps</h2><ul>{sweep_items}</ul>" if sweeps else "")
    )
    return page(INDEX_TITLE, body_html)


def _status_cell(run: Run) -> str:
    if run.status != "dead":
        return status_badge(run.status)
    reason = run.status_reason
    return f"{status_badge(run.status, reason)}<div class='muted'>{esc(reason)}</div>"


def write_results_index(root: str | os.PathLike[str], *, warn: Warn | None = None) -> Path:
    """(Re)write `<root>/index.html` listing every run below it. The first time, every run and
    sweep below gets its page too (older runs had none), linking up to the new index. A run
    folder that cannot be read is told to `warn` and the index lists the others."""
    root, warn = Path(root), warn or _ignore
    new = not (root / INDEX).is_file()
    try:
        paths = find_runs([str(root)])
    except ConvwatchError:  # an empty results folder still gets its (empty) index
        paths = []
    sweeps = find_sweeps(root)
    if new:
        atomic.write_text(root / INDEX, page(INDEX_TITLE, ""))  # so the pages link to it
        for path in paths:
            _guarded(path, warn, lambda path=path: write_run_report(path, warn=warn))
        for sweep in sweeps:
            _guarded(sweep, warn, lambda sweep=sweep: write_sweep_report(sweep, warn=warn))
    runs = []
    for path in paths:
        try:
            runs.append(load_run(path, artifacts=False))
        except Exception as error:
            warn(path, f"could not be read ({type(error).__name__}: {error}); not listed")
    return atomic.write_text(root / INDEX, render_index(root.resolve(), runs, sweeps))


def write_reports(paths: Sequence[str], say: Callable[[str], None] = print) -> list[Path]:
    """`convwatch report`: rebuild the pages of every run, sweep and results folder named.

    A folder that cannot be read in full (a corrupt or wrong-shaped run.json, config.json,
    metrics.json or history.csv) still gets a page saying what is wrong; each such folder, and
    each whose page could not be written, is one `warning: FOLDER: why` line through `say`,
    after the rest are done. Raises ConvwatchError only when a path names no run folder at all.
    """
    troubles: dict[Path, list[str]] = {}

    def warn(folder: Path, problem: str) -> None:
        reasons = troubles.setdefault(Path(os.path.abspath(folder)), [])
        if problem not in reasons:
            reasons.append(problem)

    runs = find_runs(paths, warn=say)
    written = [_guarded(p, warn, lambda p=p: write_run_report(p, warn=warn)) for p in runs]
    named = [m for p in paths for m in (sorted(glob.glob(p)) if glob.has_magic(p) else [p])]
    for path in dict.fromkeys(Path(p) for p in named):
        if not path.is_dir() or is_run(path):
            continue
        for sweep in find_sweeps(path):
            written.append(
                _guarded(sweep, warn, lambda sweep=sweep: write_sweep_report(sweep, warn=warn))
            )
        if not (path / SWEEP_JSON).is_file():
            written.append(
                _guarded(path, warn, lambda path=path: write_results_index(path, warn=warn))
            )
    for folder, reasons in troubles.items():
        say(f"warning: {_shown(folder)}: {'; '.join(reasons)}")
    return [p for p in written if p is not None]


def _shown(folder: Path) -> str:
    """`folder` relative to the working folder when it is below it, else as it is."""
    relative = os.path.relpath(folder)
    return folder.as_posix() if relative.startswith("..") else Path(relative).as_posix()
