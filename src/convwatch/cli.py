"""The `convwatch` command: `run`, `list`, `compare`, `report`.

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
    compare = commands.add_parser(
        "compare", help="compare run folders: a table of what differs, and an HTML page"
    )
    compare.add_argument(
        "runs", nargs="+", metavar="RUN_OR_GLOB", help="run folders, sweeps or results folders"
    )
    compare.add_argument("--sort", metavar="KEY", help="a metric (best first) or a config key")
    compare.add_argument("--reverse", action="store_true", help="reverse the --sort order")
    compare.add_argument("--format", choices=("table", "md", "csv", "json"), default="table")
    compare.add_argument("--metrics", help="metric columns, comma-separated, or 'all'")
    compare.add_argument("--out", help="also write the comparison page here (file or folder)")
    report = commands.add_parser("report", help="rebuild index.html of runs, sweeps, results")
    report.add_argument("paths", nargs="+", metavar="PATH", help="run, sweep or results folders")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list(args.experiments_dir)
        if args.command == "compare":
            return _compare(args)
        if args.command == "report":
            from convwatch.report import write_reports

            for path in write_reports(args.paths, say=_note):
                print(path)
            return 0
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


def _note(message: str) -> None:
    print(f"convwatch: {message}", file=sys.stderr)


def _compare(args: argparse.Namespace) -> int:
    from convwatch.compare import compare_table, find_runs, format_table, load_run

    runs = [load_run(p) for p in find_runs(args.runs, warn=_note)]
    table = compare_table(runs, args.sort, args.reverse, args.metrics)
    sys.stdout.write(format_table(table, args.format))
    if args.out:
        from convwatch.report import write_compare_report

        _note(f"wrote {write_compare_report(table.runs, args.out)}")
    return 0


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
