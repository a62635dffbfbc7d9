"""Dead filters per layer, capture by capture, from the filter atlas's NPZs, as a run-page chart.

`FilterMaximization` writes `<layer>_<tag>.npz` per capture; drawn with a probe set, it holds
`dead`, one flag per filter the atlas shows (`filters`), and `filter_count`, the layer's number
of filters, of which the atlas shows the most active. So the share drawn is of the filters
shown at that capture (fewer where a capture budget thinned it), not of the layer's: where the
atlas shows only the most active of a layer's filters, one dead among them means every one left
out is dead too, and the layer's share is at least the one drawn. NPZs without `dead` (no probe
set) are not counted; a run with none gets no chart. An NPZ that cannot be read, or whose
`dead` is not one flag per filter shown, is left out and named, as the reader names files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convwatch.report.charts import Line, line_chart
from convwatch.report.html import color
from convwatch.report.reader import Artifact, Run

ATLAS_GROUP = "FilterMaximization"  # the atlas's folder under artifacts/: its class name
TITLE = "Dead filters per layer (% of the filters shown)"
ABOUT = (
    "A filter is dead at a capture when its activation is 0 or less at every position of every "
    "probe image. Each point is the share of dead filters among those that capture's atlas "
    "shows (the legend says how many, of the layer's); where the atlas shows only a layer's "
    "most active filters, the share among all of them is at least the one drawn."
)
_TAG = re.compile(r"(epoch|step)(\d+)")


@dataclass(frozen=True)
class Count:
    """One layer at one capture: `dead` of the `shown` filters, of the layer's `total` (None
    in an NPZ that does not say)."""

    at: int  # the epoch (or step) of the capture
    dead: int
    shown: int
    total: int | None

    @property
    def percent(self) -> float:
        return 100.0 * self.dead / self.shown


@dataclass
class DeadFilters:
    """Per layer (the NPZ's file stem), its counts in capture order; `x_label` "epoch" or
    "step"; and `problems`, the NPZs left out, in words."""

    layers: dict[str, list[Count]] = field(default_factory=dict)
    x_label: str = "epoch"
    problems: list[str] = field(default_factory=list)


def count_dead(run: Run) -> DeadFilters:
    """The atlas NPZs of `run` that say which filters are dead, counted; the epoch captures,
    or where there are none, the step captures."""
    found: dict[str, dict[str, list[Count]]] = {"epoch": {}, "step": {}}
    problems = []
    for artifact in run.artifacts:
        tag = _TAG.fullmatch(artifact.tag or "")
        if artifact.group != ATLAS_GROUP or artifact.path.suffix != ".npz" or not tag:
            continue
        count, problem = _count(artifact, int(tag[2]))
        if problem:
            problems.append(problem)
        if count:
            found[tag[1]].setdefault(artifact.series, []).append(count)
    kind = "epoch" if found["epoch"] or not found["step"] else "step"
    layers = {name: sorted(counts, key=lambda c: c.at) for name, counts in found[kind].items()}
    return DeadFilters(layers, kind, problems)


def _count(artifact: Artifact, at: int) -> tuple[Count | None, str | None]:
    """The NPZ's dead filters (None without `dead`), or None and what is wrong with it."""
    try:
        with np.load(artifact.path, allow_pickle=False) as npz:
            if "dead" not in npz.files:
                return None, None
            dead = npz["dead"]
            filters = npz["filters"] if "filters" in npz.files else None
            total = npz["filter_count"] if "filter_count" in npz.files else None
    except Exception as error:  # a corrupt zip raises a dozen kinds: BadZipFile, zlib.error...
        why = f"could not be read ({type(error).__name__}: {error})"
        return None, f"{artifact.rel} {why}: left out of the dead-filter chart"
    if dead.dtype != bool or dead.ndim != 1 or not dead.size:
        why = f"its 'dead' is {dead.dtype} {dead.shape}, not one flag per filter shown"
        return None, f"{artifact.rel}: {why}: left out of the dead-filter chart"
    if filters is not None and filters.shape != dead.shape:
        why = f"{dead.size} 'dead' flags for {filters.size} filters shown"
        return None, f"{artifact.rel}: {why}: left out of the dead-filter chart"
    layer = None
    if total is not None and total.shape == () and total.dtype.kind in "iu" and total >= dead.size:
        layer = int(total)
    return Count(at, int(dead.sum()), int(dead.size), layer), None


def _label(layer: str, counts: list[Count]) -> str:
    """`conv1 (all 32)`, `conv3 (64 of 128 shown)`, `conv3 (16-64 of 128 shown)`, `conv1 (32
    shown)` where the NPZs do not say the layer's filter count."""
    shown = sorted({c.shown for c in counts})
    many = str(shown[0]) if len(shown) == 1 else f"{shown[0]}-{shown[-1]}"
    totals = [c.total for c in counts if c.total is not None]
    if totals and shown == [max(totals)]:
        return f"{layer} (all {shown[0]})"
    return f"{layer} ({many} of {max(totals)} shown)" if totals else f"{layer} ({many} shown)"


def dead_chart(found: DeadFilters) -> dict[str, Any] | None:
    """One line per layer, the percentage of dead filters shown at each capture, and the
    sentence saying what that is (`about`); None when no NPZ says which filters are dead."""
    if not found.layers:
        return None
    lines = [
        Line(_label(layer, counts), color(i), [(c.at, c.percent) for c in counts])
        for i, (layer, counts) in enumerate(found.layers.items())
    ]
    return {**line_chart(TITLE, lines, found.x_label), "about": ABOUT}
