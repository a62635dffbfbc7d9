""" "What the networks learned": the section of a comparison page that compares the runs'
representations, not their scores (linear CKA layer by layer, filters matched one to one).

The figures are computed where the models and data can be loaded (`convwatch.run.learned`);
this module holds what they are and turns them into what templates/compare.html shows: each
run against the first, its CKA heatmap, a table of the same-layer values beside the untrained
baseline, and per conv layer the matched filters.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convwatch.base import atomic
from convwatch.report.html import color, figure

MATCHED = 0.8  # a filter "has a close match" above this correlation (Li et al.'s figure)
ALONE = 0.5  # below this, a filter is "only in" its network


@dataclass
class LayerMatch:
    """The filters of one conv layer of the first run matched one to one with another's."""

    layer: str
    correlations: list[float]  # per filter of A, best first
    pairs: list[tuple[int, int, float]]  # (filter of A, its match in B or -1, r), best first
    only_b: list[int]  # filters of B matched to nothing above ALONE
    picture: Path | None = None  # the tiles side by side, where both runs have an atlas
    picture_note: str = ""  # why there is no picture


@dataclass
class Agreement:
    """One run against the first: CKA between their layers and their matched filters."""

    index: int  # the run's place in the comparison (0 is the first run itself)
    run_id: str
    rows: list[str]  # the first run's layers
    cols: list[str]  # this run's layers
    matrix: list[list[float]]
    heatmap: Path | None = None
    matches: list[LayerMatch] = field(default_factory=list)
    same: dict[str, str] = field(default_factory=dict)  # first's layer -> this one's


@dataclass
class Learned:
    """The whole section: what the probe set is, the untrained baseline, each agreement."""

    probe: str  # e.g. "the first 1,000 test images of mnist (offline MNIST subset)"
    first: str  # the run every other is compared with: its run id
    baseline: dict[str, float]  # first run's layer -> CKA with its architecture untrained
    agreements: list[Agreement]
    notes: list[str] = field(default_factory=list)


def _same_layer_rows(agreement: Agreement, baseline: dict[str, float]) -> list[dict[str, Any]]:
    found = []
    for i, layer in enumerate(agreement.rows):
        if agreement.same.get(layer) not in agreement.cols:
            continue
        row = agreement.matrix[i]
        value = row[agreement.cols.index(agreement.same[layer])]
        untrained = baseline.get(layer)
        best = max((v for v in row if v == v), default=float("nan"))
        found.append(
            {
                "first": layer,
                "layer": layer
                if agreement.same[layer] == layer
                else f"{layer} ~ {agreement.same[layer]}",
                "cka": _number(value),
                "untrained": _number(untrained),
                "gap": _number(None if untrained is None else value - untrained, signed=True),
                "row_max": value == best,
            }
        )
    return found


def _number(value: float | None, signed: bool = False) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _match_summary(match: LayerMatch) -> str:
    r = [v for v in match.correlations if v == v]
    count = len(match.correlations)
    if not r:
        return f"none of the {count} filters has a match"
    median = statistics.median(r)
    close = sum(v > MATCHED for v in r)
    alone = count - sum(v >= ALONE for v in r)
    text = f"{close} of {count} filters matched above r {MATCHED}; median r {median:.2f}"
    if alone or match.only_b:
        text += f"; {alone} only in the first run, {len(match.only_b)} only in this one"
    return text


def _summary(learned: Learned, shown, labels: Sequence[str]) -> dict[str, Any]:
    """One row per run: its same-layer CKA with the first run's layers, and per conv layer how
    many filters matched above MATCHED; the untrained baseline as the last row."""
    layers = [layer for layer in learned.baseline if all(layer in a.same for a, _ in shown)]
    convs = list(dict.fromkeys(m.layer for a, _ in shown for m in a.matches))
    rows = []
    for a, i in shown:
        same = {r["first"]: r["cka"] for r in _same_layer_rows(a, learned.baseline)}
        close = {m.layer: f"{sum(v > MATCHED for v in m.correlations if v == v)} of "
                 f"{len(m.correlations)}" for m in a.matches}  # fmt: skip
        rows.append(
            {
                "color": color(i),
                "label": labels[i],
                "cells": [same.get(layer, "—") for layer in layers]
                + [close.get(layer, "—") for layer in convs],
            }
        )
    untrained = [_number(learned.baseline[layer]) for layer in layers] + ["—"] * len(convs)
    return {
        "header": ["run", *layers, *(f"{c}: r > {MATCHED}" for c in convs)],
        "rows": rows,
        "untrained": untrained,
    }


FOLDER = "learned"  # beside a comparison page: the section's pictures
PREFIX = "learned_"  # in a sweep folder (whose folders are all runs): the pictures' names
FILE = "learned.json"  # in a sweep folder: the section, for its page


def save(learned: Learned | str, folder: Path) -> Path:
    """`folder/learned.json`: the section as `read` takes it back (paths relative to `folder`),
    for a page written again later (a sweep's) without computing it again."""
    if isinstance(learned, str):
        return atomic.write_json(folder / FILE, {"why_not": learned})
    data = dataclasses.asdict(learned)
    for agreement in data["agreements"]:
        agreement["heatmap"] = _relative(agreement["heatmap"], folder)
        for match in agreement["matches"]:
            match["picture"] = _relative(match["picture"], folder)
    return atomic.write_json(folder / FILE, _finite(data))


def _relative(path: Path | None, folder: Path) -> str | None:
    return None if path is None else Path(path).relative_to(folder).as_posix()


def _finite(value: Any) -> Any:
    """NaN (no correlation, no match) as None: JSON has no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def read(folder: Path) -> Learned | str | None:
    """The section `save` wrote in `folder`; None without one; a sentence where it is
    unreadable. A picture path that leaves `folder` is dropped."""
    path = folder / FILE
    if not path.is_file():
        return None
    try:
        data = atomic.read_json(path)
        if "why_not" in data:
            return str(data["why_not"])
        agreements = []
        for a in data["agreements"]:
            matches = [
                LayerMatch(
                    layer=str(m["layer"]),
                    correlations=[_float(v) for v in m["correlations"]],
                    pairs=[(int(i), int(j), _float(r)) for i, j, r in m["pairs"]],
                    only_b=[int(b) for b in m["only_b"]],
                    picture=_inside(m["picture"], folder),
                    picture_note=str(m["picture_note"]),
                )
                for m in a["matches"]
            ]
            agreements.append(
                Agreement(
                    index=int(a["index"]),
                    run_id=str(a["run_id"]),
                    rows=[str(r) for r in a["rows"]],
                    cols=[str(c) for c in a["cols"]],
                    matrix=[[_float(v) for v in row] for row in a["matrix"]],
                    heatmap=_inside(a["heatmap"], folder),
                    matches=matches,
                    same={str(k): str(v) for k, v in a.get("same", {}).items()},
                )
            )
        return Learned(
            probe=str(data["probe"]),
            first=str(data["first"]),
            baseline={str(k): _float(v) for k, v in data["baseline"].items()},
            agreements=agreements,
            notes=[str(n) for n in data["notes"]],
        )
    except Exception as error:  # noqa: BLE001 - any damage: said on the page, never raised
        return f"{path.name} could not be read ({type(error).__name__}: {error})"


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _inside(rel: Any, folder: Path) -> Path | None:
    if not isinstance(rel, str):
        return None
    path = (folder / rel).resolve()
    return path if path.is_relative_to(folder.resolve()) and path.is_file() else None


def context(
    learned: Learned | str | None,
    labels: Sequence[str],
    base: Path,
    run_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """What templates/compare.html shows under "What the networks learned"; `labels` are the
    runs' labels as the rest of the page names them, `run_ids` the runs in the same order
    (to find where a saved section's runs are on this page); images are linked from `base`."""
    if learned is None:
        return {}
    if isinstance(learned, str):
        return {"why_not": learned}
    place = {run_id: i for i, run_id in enumerate(run_ids)}
    first = place.get(learned.first, 0)
    shown = [(a, place.get(a.run_id, a.index)) for a in learned.agreements]
    if any(i >= len(labels) for _, i in shown):
        return {"why_not": "the runs compared are not the runs on this page"}
    return {
        "why_not": "",
        "summary": _summary(learned, shown, labels),
        "probe": learned.probe,
        "notes": learned.notes,
        "first": {"color": color(first), "label": labels[first]},
        "agreements": [
            {
                "color": color(a.index),
                "label": labels[a.index],
                "heatmap": figure(
                    a.heatmap, base, f"Linear CKA: {labels[a.index]} against {labels[0]}", 560
                )
                if a.heatmap
                else None,  # fmt: skip
                "same_layer": _same_layer_rows(a, learned.baseline),
                "matches": [
                    {
                        "layer": m.layer,
                        "summary": _match_summary(m),
                        "picture": figure(m.picture, base, f"{m.layer}: matched filters", 900)
                        if m.picture
                        else None,
                        "note": m.picture_note,
                        "pairs": [
                            (a_, b_ if b_ >= 0 else "—", _number(r)) for a_, b_, r in m.pairs
                        ],
                    }
                    for m in a.matches
                ],
            }
            for a, i in shown
        ],
    }
