"""Work out what a comparison's runs learned alike: the figures behind the "What the networks
learned" section of `convwatch compare` and of a sweep's page (`convwatch.report.learned`).

Every run's `model.keras` sees the same probe set, the first run's test images prepared as that
run prepared them (its dataset, subset and normalisation, from config.json). Each run is
compared with the first: linear CKA between all their compared layers, the first run's
layers against its architecture freshly initialised (the baseline that says what a CKA value is
worth), and the filters of every conv layer both have matched one to one, drawn from their
last atlases (FilterMaximization) where both runs have one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from convwatch.base import atomic
from convwatch.base.layout import MODEL_FILE, file_stem
from convwatch.data import load_dataset
from convwatch.report.learned import ALONE, Agreement, LayerMatch, Learned
from convwatch.report.reader import Run
from convwatch.run.keras_setup import load_trained_model
from convwatch.run.prepare import normalize
from convwatch.run.spec import Data

logger = logging.getLogger(__name__)

PROBE = 1000  # test images every network sees, by default
ATLAS_GROUP = "FilterMaximization"


def learned_comparison(
    runs: Sequence[Run], folder: Path, probe: int = PROBE, prefix: str = ""
) -> Learned | str:
    """The section's figures for `runs` (the first is the reference), its pictures written
    into `folder`, their names starting with `prefix`; or, where it cannot be computed, one
    sentence saying why."""
    if len(runs) < 2:
        return "it needs at least two runs"
    if probe < 4:
        return f"the probe set must hold at least 4 images. Received: {probe}"
    missing = [
        f"#{i} {r.run_id}" for i, r in enumerate(runs, 1) if not (r.path / MODEL_FILE).is_file()
    ]
    if missing:
        return f"no {MODEL_FILE} in {', '.join(missing)} (a run writes it when it completes)"
    try:
        x, source = _probe_images(runs[0], probe)
    except Exception as error:  # noqa: BLE001 - any failure to load: said on the page
        return f"the first run's data could not be loaded ({type(error).__name__}: {error})"
    models = []
    for i, run in enumerate(runs, 1):
        try:
            model, _ = load_trained_model(str(run.path))
        except Exception as error:  # noqa: BLE001
            return f"run #{i}'s model could not be loaded: {error}"
        shape = tuple(model.input_shape[1:])
        if len(shape) != x.ndim - 1 or any(
            d not in (None, s) for d, s in zip(shape, x.shape[1:], strict=True)
        ):
            return (
                f"run #{i} ({run.run_id}) takes inputs of shape {shape}; the first run's "
                f"test images are {tuple(x.shape[1:])}"
            )
        models.append(model)
    return _compare(runs, models, x, source, Path(folder), prefix)


def _probe_images(run: Run, probe: int) -> tuple[np.ndarray, str]:
    """The first `probe` test images of `run`'s data, prepared as the run prepared them."""
    data = Data(**run.config.get("data", {}))
    seed = run.config.get("seed", 0)
    dataset = load_dataset(
        data.name, limit=data.limit, test_limit=data.test_limit, seed=seed, **data.options
    )
    x = normalize(dataset.x_test[:probe], data.normalize, dataset.x_train)
    origin = dataset.source.split(";")[0].split(" (")[0]  # the rest says how it was found
    return x, f"the first {len(x):,} test images of {data.name} ({origin})"


def _compare(runs, models, x, source: str, folder: Path, prefix: str) -> Learned:
    import keras

    from convwatch.techniques import find_layers, layer_outputs, match_filters
    from convwatch.techniques.similarity import (
        cka_of_grams,
        default_similarity_layers,
        layer_grams,
    )

    first = models[0]
    rows = default_similarity_layers(first, x.shape[1:])
    logger.info(f"learned: {len(rows)} layers of run #1 on {len(x):,} probe images")
    grams = layer_grams(first, x, rows)
    # Not the first run's own seed: that would rebuild its initial weights, not a baseline.
    seed = runs[0].config.get("seed")
    keras.utils.set_random_seed((seed if isinstance(seed, int) else 0) + 1)
    untrained = keras.models.clone_model(first)
    untrained.build(first.input_shape)
    baseline = np.diag(cka_of_grams(grams, layer_grams(untrained, x, rows)))
    learned = Learned(
        probe=source,
        first=runs[0].run_id,
        baseline={layer: float(v) for layer, v in zip(rows, baseline, strict=True)},
        agreements=[],
    )
    convs = [name for name in find_layers(first, ("conv",)) if name in rows]
    if not convs:
        learned.notes.append("The first network has no convolution layers: no filters to match.")
    for i, (run, model) in enumerate(zip(runs[1:], models[1:], strict=True), 1):
        logger.info(f"learned: run #{i + 1} ({run.run_id}) against run #1")
        cols = default_similarity_layers(model, x.shape[1:])
        matrix = cka_of_grams(grams, layer_grams(model, x, cols))
        agreement = Agreement(i, run.run_id, rows, cols, matrix.tolist())
        agreement.same = _corresponding(first, model, rows, cols)
        agreement.heatmap = _heatmap(
            folder / f"{prefix}cka_{i + 1}_{run.run_id}.png", agreement, len(x)
        )
        theirs = set(find_layers(model, ("conv",)))
        for layer in (c for c in convs if agreement.same.get(c) in theirs):
            other = agreement.same[layer]
            try:
                match, r = match_filters(first, model, layer, x, other)
            except ValueError as error:
                learned.notes.append(f"{layer} of run #{i + 1} not matched: {error}")
                continue
            picture = folder / f"{prefix}matched_{i + 1}_{run.run_id}_{file_stem(layer)}.png"
            count_b = int(layer_outputs(model, x[:1], other)[other].shape[-1])
            found = _layer_match(
                (layer, other), (match, r, count_b), (runs[0], run), i + 1, picture
            )
            agreement.matches.append(found)
        learned.agreements.append(agreement)
    return learned


def _corresponding(first, model, rows: list[str], cols: list[str]) -> dict[str, str]:
    """Which compared layer of `model` is each of `first`'s: the one of the same name; where
    no name is shared but both lists have the same length and layer types (the same
    architecture built twice in one process: Keras names the second's layers `conv2d_1`,
    `activation_19`, ...), the one at the same place."""
    named = {r: r for r in rows if r in cols}
    if named or len(rows) != len(cols):
        return named
    from convwatch.techniques.layers import get_layer

    kinds = [type(get_layer(first, n)) for n in rows], [type(get_layer(model, n)) for n in cols]
    return dict(zip(rows, cols, strict=True)) if kinds[0] == kinds[1] else {}


def _heatmap(path: Path, agreement: Agreement, probes: int) -> Path:
    from convwatch.plots.similarity import cka_heatmap

    i = agreement.index + 1
    figure = cka_heatmap(
        agreement.matrix,
        agreement.rows,
        agreement.cols,
        agreement.same,
        "run #1's layers",
        f"run #{i}'s layers",
        f"Linear CKA of run #{i} against run #1 on {probes:,} test images\n"
        "(boxed: the same layer in both)",
    )
    return atomic.write_figure(path, figure)


def _layer_match(
    layers: tuple[str, str], matched, runs: tuple[Run, Run], number: int, path: Path
) -> LayerMatch:
    """The pairs of `match_filters` (`matched`: its match and correlation, and how many filters
    B's layer has) best first, and their picture at `path` where both runs (the first and run
    #`number`) have an atlas of their `layers` (the first's, the other's)."""
    layer = layers[0]
    match, r, count_b = matched
    order = np.argsort(-np.nan_to_num(r, nan=-2.0), kind="stable")
    pairs = [(int(a), int(match[a]), float(r[a])) for a in order]
    matched_well = {b for _, b, v in pairs if b >= 0 and v >= ALONE}
    found = LayerMatch(
        layer=layer,
        correlations=[v for _, _, v in pairs],
        pairs=pairs,
        only_b=[b for b in range(count_b) if b not in matched_well],
    )
    tiles = [_atlas_tiles(run, name) for run, name in zip(runs, layers, strict=True)]
    if tiles[0] is None or tiles[1] is None:
        which = " and ".join(
            f"run #{n}" for n, t in zip((1, number), tiles, strict=True) if t is None
        )
        found.picture_note = (
            f"No picture: no atlas of {layer} in {which} (FilterMaximization draws one)."
        )
        return found
    shown = [(tiles[0][a], tiles[1].get(b), v) for a, b, v in pairs if a in tiles[0]]
    paired = {b for _, b, _ in pairs}
    shown += [(None, tile, float("nan")) for b, tile in tiles[1].items() if b not in paired]
    if not shown:
        found.picture_note = f"No picture: the atlases of {layer} show none of these filters."
        return found
    from convwatch.plots.similarity import matched_filters

    image = matched_filters(
        shown,
        ("run #1", f"run #{number}"),
        f"{layer}: each filter of run #1 beside its match in run #{number} (best first; r: "
        f"correlation of their activations; orange: none above {ALONE}, each only in its own)",
    )
    found.picture = atomic.write_png(path, image)
    return found


def _atlas_tiles(run: Run, layer: str) -> dict[int, Any] | None:
    """Filter index -> `Tile` from the run's last atlas NPZ of `layer`; None without one."""
    from convwatch.plots.similarity import Tile

    npzs = [
        a for a in run.artifacts
        if a.group == ATLAS_GROUP and a.series == file_stem(layer) and a.path.suffix == ".npz"
    ]  # fmt: skip
    if not npzs:
        return None
    try:
        arrays = atomic.read_npz(max(npzs, key=lambda a: a.tag or "").path)
        return _tiles(arrays, Tile)
    except Exception as error:  # noqa: BLE001 - a damaged file: no picture, the rest stays
        logger.warning(f"learned: the atlas of {layer} in {run.run_id} is unreadable: {error}")
        return None


def _tiles(arrays: dict[str, Any], tile) -> dict[int, Any]:
    pictures = np.asarray(arrays["images"])
    exemplars = arrays.get("exemplars")
    if bool(arrays.get("as_shown", False)):  # uint8 tiles as the atlas drew them
        pictures = pictures.astype(np.float32) / 255.0
        exemplars = None if exemplars is None else np.asarray(exemplars, np.float32) / 255.0
    else:
        top, left, height, width = (int(v) for v in arrays["receptive_field"])
        pictures = pictures[:, max(top, 0) : top + height, max(left, 0) : left + width]
        if exemplars is not None:
            exemplars = np.asarray(exemplars, np.float32)
            low, high = float(exemplars.min()), float(exemplars.max())
            exemplars = (exemplars - low) / max(high - low, 1e-12)
    dead = np.asarray(arrays.get("dead", np.zeros(len(pictures), bool)))
    return {
        int(f): tile(
            int(f), pictures[k], None if exemplars is None or dead[k] else exemplars[k], dead[k]
        )
        for k, f in enumerate(np.asarray(arrays["filters"]))
    }
