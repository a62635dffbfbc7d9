"""What a run or sweep will run, before anything runs: the launcher options and the plan.

A plan is a list of points, each one variant of an experiment with its label, config hash and
own `key=value` overrides, in the order a sweep lists them. A launcher then runs the points:
`local` one after another in this process (`convwatch.run.local_launcher`), `ray` as Ray tasks
on this machine's cores or a cluster (`convwatch.run.ray_launcher`). Whichever runs them, the
folders and the report keep the plan's order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from convwatch.errors import ConvwatchError
from convwatch.run.overrides import parse_override
from convwatch.run.spec import Experiment
from convwatch.run.sweeps import sweep_label

LAUNCHERS = ("local", "ray")
RAY_MISSING = "--launcher ray needs Ray: pip install 'convwatch[ray]'"


@dataclass(frozen=True)
class LaunchOptions:
    """How the points run: `launcher` local or ray; for ray, the cluster to join
    (`ray_address`, None: a Ray instance on this machine, or $RAY_ADDRESS), what each point
    asks of it (`cpus_per_run`, `gpus_per_run`) and at most how many run at once
    (`max_parallel`, None: as many as the cluster's resources allow)."""

    launcher: str = "local"
    ray_address: str | None = None
    cpus_per_run: float = 1
    gpus_per_run: float = 0
    max_parallel: int | None = None

    def __post_init__(self) -> None:
        if self.launcher not in LAUNCHERS:
            raise ConvwatchError(
                f"launcher must be one of {', '.join(LAUNCHERS)}. Received: {self.launcher!r}"
            )
        _check_number("cpus_per_run", self.cpus_per_run, "a number > 0", minimum=0, open_=True)
        _check_number("gpus_per_run", self.gpus_per_run, "a number >= 0", minimum=0)
        if self.max_parallel is not None and (
            not isinstance(self.max_parallel, int)
            or isinstance(self.max_parallel, bool)
            or self.max_parallel < 1
        ):
            raise ConvwatchError(
                f"max_parallel must be None or an integer >= 1. Received: {self.max_parallel!r}"
            )
        if self.launcher == "local" and self.ray_address:
            raise ConvwatchError("--ray-address needs --launcher ray")


def _check_number(key: str, value: object, wanted: str, minimum: float, open_: bool = False):
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value > minimum if open_ else value >= minimum)
    if not ok:
        raise ConvwatchError(f"{key} must be {wanted}. Received: {value!r}")


def require_ray() -> None:
    """ConvwatchError naming the extra to install, where Ray cannot be imported."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise ConvwatchError(RAY_MISSING) from None


@dataclass(frozen=True)
class Point:
    """One run of a plan: the variant to run, what tells it apart, and its own overrides."""

    experiment: Experiment
    label: str
    overrides: tuple[str, ...]

    @property
    def config_hash(self) -> str:
        return self.experiment.config_hash()

    def entry(self) -> dict[str, object]:
        """The point as sweep.json lists it before its run folder exists."""
        return {
            "run": None,
            "config_hash": self.config_hash,
            "label": self.label,
            "status": "pending",
            "experiment": self.experiment.name,
            "overrides": list(self.overrides),
        }


@dataclass(frozen=True)
class Plan:
    """The points of one `run_experiment`: one point (a single run into `parent`) or a sweep's,
    with the effective `overrides` (the declared sweep included) that made them."""

    parent: Path
    overrides: tuple[str, ...]
    points: tuple[Point, ...]

    @property
    def is_sweep(self) -> bool:
        return len(self.points) > 1

    @property
    def swept(self) -> list[str]:
        """The keys with several values: the sweep's axes."""
        return [key for key, values in map(parse_override, self.overrides) if len(values) > 1]

    @property
    def title(self) -> str:
        return f"{self.parent.name}: {', '.join(self.swept)}"

    def sweep_name(self) -> str:
        """`sweep-<digest>`: the sweep folder's name after its timestamp."""
        hashes = "".join(p.config_hash for p in self.points)
        return f"sweep-{hashlib.sha1(hashes.encode()).hexdigest()[:7]}"


def point_overrides(overrides: Sequence[str]) -> list[list[str]]:
    """Each sweep point's own `key=value` overrides, in the order apply_overrides makes them."""
    axes = [[f"{key}={raw}" for raw in raws] for key, raws in map(parse_override, overrides)]
    return [list(point) for point in itertools.product(*axes)]


def make_plan(variants: Sequence[Experiment], parent: Path, overrides: Sequence[str]) -> Plan:
    """The plan of `variants` (apply_overrides' output for the effective `overrides`)."""
    own = point_overrides(overrides)
    if len(own) != len(variants):  # a declared value with several parts: no own overrides
        own = [[] for _ in variants]
    plan = Plan(Path(parent), tuple(overrides), ())
    points = tuple(
        Point(variant, sweep_label(variant, plan.swept), tuple(mine))
        for variant, mine in zip(variants, own, strict=True)
    )
    return dataclasses.replace(plan, points=points)
