"""What a filter-atlas capture draws at each scale of the capture budget, and what it costs.

At scale 1 a capture draws what it was asked for: every chosen layer, up to `max_filters`
filters each, exemplars from every probe image. Below that it draws fewer filters per layer and
searches fewer probe images (a prefix of them, so captures stay comparable); below 0.5 it also
keeps fewer layers, evenly spread from the first (the cheapest: it stops early in the network)
to the last. The predicted cost comes from timed forward passes of the network and the work
each scale needs: the ascent's forward and backward passes up to each layer, the search for its
best contrast, and the exemplar pass over the probe images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from convwatch.techniques.maximize import LEVELS
from convwatch.techniques.memory import ForwardCost

DRAW_S = 0.1  # about what drawing and writing one layer's atlas takes


@dataclass(frozen=True)
class Sized:
    """One capture's sizes: the layers, filters per layer, probe images searched."""

    layers: list[str]
    filters: dict[str, int]
    probes: int


@dataclass(frozen=True)
class AtlasPlan:
    """The full-scale sizes of one fit's atlas captures and what a forward pass costs."""

    layers: list[str]
    channels: dict[str, int]  # per layer, its filter count
    shares: dict[str, float]  # per layer, the share of a forward pass it takes to reach it
    filters: dict[str, int]  # per layer, the filters shown at scale 1
    probes: int  # probe images at scale 1 (0: no probe set)
    exemplars: int
    steps: int
    cost: ForwardCost  # of a forward pass through the whole network
    batch: int  # probe images a forward call takes

    def at(self, scale: float) -> Sized:
        """The sizes at `scale` in (0, 1] (see the module docstring)."""
        count = len(self.layers)
        kept = count if scale >= 0.5 else max(1, round(count * 2 * scale))
        picks = np.unique(np.round(np.linspace(0, count - 1, kept)).astype(int))
        layers = [self.layers[i] for i in picks]
        filters = {name: max(1, math.ceil(self.filters[name] * scale)) for name in layers}
        probes = min(self.probes, max(self.exemplars, math.ceil(self.probes * scale)))
        return Sized(layers, filters, probes if self.probes else 0)

    def predict(self, scale: float) -> float:
        """Seconds a capture at `scale` should take."""
        sized = self.at(scale)
        passes = sum(
            self.shares[name] * sized.filters[name] * (3 * self.steps + LEVELS)
            for name in sized.layers
        )
        ascent = passes * self.cost.per_example  # compiled: no per-layer dispatch
        deepest = max(self.shares[name] for name in sized.layers)
        # the exemplar search: the maxima, then the winners' positions
        search = 2 * self.cost.seconds(sized.probes, self.batch, deepest) if sized.probes else 0
        return ascent + search + DRAW_S * len(sized.layers)

    def describe(self, sized: Sized) -> str:
        """`sized` in words, against scale 1: "2 of 5 layers, 16 of 64 filters each, ..."."""
        parts = [f"{len(sized.layers)} of {len(self.layers)} layers"]
        shown = {sized.filters[name] for name in sized.layers}
        full = {self.filters[name] for name in sized.layers}
        if len(shown) == 1 and len(full) == 1:
            parts.append(f"{shown.pop()} of {full.pop()} filters each")
        else:
            parts.append(f"{sum(sized.filters.values())} filters in all")
        if self.probes:
            parts.append(f"exemplars from {sized.probes} of {self.probes} probe images")
        return ", ".join(parts)
