"""A sweep folder's own record, sweep.json, kept up to date while its points run.

sweep.json lists the plan (`experiment`, the effective `overrides`, `planned`) and one entry per
point in the plan's order: its run folder (None until it exists), config hash, label, status
(pending, running, completed, failed or interrupted), experiment and own overrides, which is
what `convwatch resume SWEEP` needs to run the points that did not complete. Points may finish
in any order; the entries, the summary and the page keep the plan's.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from convwatch.base import layout
from convwatch.errors import RunFailed
from convwatch.run import publish
from convwatch.run.folder import RunFolder
from convwatch.run.launch import Plan
from convwatch.run.record import read_record, recorded_status
from convwatch.run.sweeps import summarize

logger = logging.getLogger(__name__)


class SweepRecord:
    """The sweep folder of `plan` and its sweep.json; `listed` says whether every point has an
    entry from the start (the ray launcher, a resumed sweep) or each gets one as it starts
    (the local launcher, as sweeps always did)."""

    def __init__(self, folder: RunFolder, plan: Plan, listing: dict[str, Any]):
        self.folder, self.plan, self.listing = folder, plan, listing

    @classmethod
    def create(cls, plan: Plan, listed: bool = False) -> SweepRecord:
        """A new sweep folder under the plan's parent, with its first sweep.json."""
        folder = RunFolder.create(plan.parent, plan.sweep_name())
        listing = {
            "experiment": plan.points[0].experiment.name,
            "overrides": list(plan.overrides),
            "planned": len(plan.points),
            "runs": [p.entry() for p in plan.points] if listed else [],
        }
        sweep = cls(folder, plan, listing)
        sweep.write()
        return sweep

    @property
    def path(self) -> Path:
        return self.folder.path

    @property
    def runs(self) -> list[dict[str, Any]]:
        return self.listing["runs"]

    def entry(self, index: int) -> dict[str, Any]:
        """Point `index`'s entry, added (as pending) if the listing does not reach it yet."""
        while len(self.runs) <= index:
            self.runs.append(self.plan.points[len(self.runs)].entry())
        return self.runs[index]

    def set(self, index: int, write: bool = True, **values: Any) -> None:
        """Point `index`'s entry gets `values`; sweep.json is written unless `write` is False.
        A new run folder for a point that had one keeps the old names in `earlier_runs`."""
        entry = self.entry(index)
        old, new = entry.get("run"), values.get("run")
        if old and new and new != old:
            entry["earlier_runs"] = [*entry.get("earlier_runs", []), old]
        entry.update(values)
        if write:
            self.write()

    def write(self) -> None:
        self.folder.write_json(layout.SWEEP_JSON, self.listing)

    def status_from_folder(self, index: int) -> str:
        """What point `index`'s run folder says now (`failed` where it has none to read)."""
        name = self.entry(index).get("run")
        return recorded_status(RunFolder(self.path / name)) if name else "failed"

    def write_page(self) -> None:
        publish.write_sweep_page(self.path)

    def finish(self) -> Path:
        """The summary and the page, after every point has run; RunFailed if any did not
        complete, else the sweep folder."""
        runs = [self.entry(i) for i in range(len(self.plan.points))]
        summarize(self.folder, runs, title=self.plan.title)
        self.write_page()
        failed = [r["run"] for r in runs if r["status"] != "completed"]
        if failed:
            raise RunFailed(self.path, f"{len(failed)} of {len(runs)} sweep runs failed: {failed}")
        return self.path

    def unfinished(self) -> list[int]:
        """The indices of the points whose run folder does not say completed."""
        return [
            i for i in range(len(self.plan.points)) if self.status_from_folder(i) != "completed"
        ]


def read_listing(path: Path) -> dict[str, Any] | None:
    """sweep.json of the folder `path`, or None where it has none that reads as an object."""
    listing = read_record(RunFolder(path), layout.SWEEP_JSON)
    return listing if isinstance(listing, dict) else None


def reopen(path: Path, plan: Plan, listing: dict[str, Any]) -> SweepRecord:
    """The sweep folder `path` for `plan` (made again from its sweep.json): every point gets
    its entry, the old one where its config hash matches (statuses refreshed from the run
    folders), so that the points still to run can be told apart."""
    old = [e for e in listing.get("runs", []) if isinstance(e, dict)]
    runs = []
    for point in plan.points:
        match = next((e for e in old if e.get("config_hash") == point.config_hash), None)
        if match is not None:
            old.remove(match)
        runs.append({**point.entry(), **(match or {})})
    listing = {**listing, "planned": len(plan.points), "runs": runs}
    sweep = SweepRecord(RunFolder(path), plan, listing)
    for index in range(len(runs)):
        if runs[index].get("run"):
            runs[index]["status"] = sweep.status_from_folder(index)
    return sweep
