"""The `convwatch` command: `run`, `list`.

Exit status: 0 done; 1 a run failed (its run.json says why); 2 bad input (unknown experiment,
bad override, missing data); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from convwatch.errors import ConvwatchError, RunFailed

# TensorFlow prints device and CPU-feature notices at import; keep the console for the run.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convwatch", description="Watch convolutional networks learn."
    )
    parser.add_argument(
        "--experiments-dir",
        default=None,
        help="folder of experiment modules (default: $CONVWATCH_EXPERIMENTS or ./experiments)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run an experiment into a new run folder")
    run.add_argument("name", help="experiment name (see `convwatch list`)")
    run.add_argument(
        "overrides",
        nargs="*",
        metavar="key=value",
        help="dotted-key overrides, e.g. fit.epochs=2 data.limit=2000; a,b,c sweeps",
    )
    run.add_argument("--results-dir", default="results", help="where run folders go")
    commands.add_parser("list", help="list the available experiments")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list(args.experiments_dir)
        from convwatch.runner import run_experiment

        path = run_experiment(
            args.name, args.overrides, args.results_dir, experiments_path=args.experiments_dir
        )
        print(path)
        return 0
    except ConvwatchError as error:
        print(f"convwatch: error: {error}", file=sys.stderr)
        return 2
    except RunFailed as error:
        print(f"convwatch: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("convwatch: interrupted", file=sys.stderr)
        return 130


def _list(experiments_dir: str | None) -> int:
    from convwatch.catalog import list_experiments, load_experiment

    names = list_experiments(experiments_dir)
    width = max((len(n) for n in names), default=0)
    for name in names:
        description = load_experiment(name, experiments_dir).description.strip().splitlines()
        print(f"{name:<{width}}  {description[0] if description else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
