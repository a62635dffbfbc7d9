"""The `convwatch` command: `run`, `resume`, `list`, `compare`, `report`.

Exit status: 0 done; 1 a run failed (its run.json says why); 2 bad input (unknown experiment,
bad override, missing or corrupt data, not a run folder, a run to resume that is still alive or
has no checkpoint); 130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM. `report` over folders
that cannot all be read writes what it can, warns of the rest, and exits 0.
"""

from __future__ import annotations

import argparse
import os
import signal
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
    run.add_argument("name", nargs="?", help="experiment name (see `convwatch list`)")
    run.add_argument(
        "overrides",
        nargs="*",
        metavar="key=value",
        help="dotted-key overrides, e.g. fit.epochs=2 data.limit=2000; a,b,c sweeps",
    )
    run.add_argument("--results-dir", default="results", help="where run folders go")
    run.add_argument(
        "--resume",
        metavar="RUN",
        help="the same as `convwatch resume RUN`",
    )
    resume = commands.add_parser(
        "resume",
        help="continue an interrupted, failed or dead run in its folder from its checkpoint",
    )
    resume.add_argument("run", metavar="RUN", help="the run folder")
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
            return _report(args.paths)
        from convwatch.run.runner import resume_run, run_experiment

        if args.command == "resume":
            print(resume_run(args.run, experiments_path=args.experiments_dir))
            return 0
        if args.resume:
            if args.name or args.overrides:
                raise ConvwatchError("--resume RUN takes no experiment name or overrides")
            print(resume_run(args.resume, experiments_path=args.experiments_dir))
            return 0
        if args.name is None:
            raise ConvwatchError("run needs an experiment name (see `convwatch list`)")
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
    except KeyboardInterrupt as error:
        signum = getattr(error, "signum", signal.SIGINT)
        print(f"convwatch: interrupted by {signal.Signals(signum).name}", file=sys.stderr)
        return 128 + signum


def _note(message: str) -> None:
    print(f"convwatch: {message}", file=sys.stderr)


def _report(paths: Sequence[str]) -> int:
    """Rebuild the pages. A folder that cannot be read in full gets a page saying what is
    wrong and one warning line here; the others go on, and the exit status stays 0."""
    from convwatch.report.pages import write_reports

    for path in write_reports(paths, say=_note):
        print(path)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from convwatch.report.reader import compare_table, find_runs, format_table, load_run

    runs = [load_run(p) for p in find_runs(args.runs, warn=_note)]
    table = compare_table(runs, args.sort, args.reverse, args.metrics)
    sys.stdout.write(format_table(table, args.format))
    if args.out:
        from convwatch.report.pages import write_compare_report

        _note(f"wrote {write_compare_report(table.runs, args.out)}")
    return 0


def _list(experiments_dir: str | None) -> int:
    from convwatch.run.catalog import list_experiments, load_experiment

    names = list_experiments(experiments_dir)
    width = max((len(n) for n in names), default=0)
    for name in names:
        description = load_experiment(name, experiments_dir).description.strip().splitlines()
        print(f"{name:<{width}}  {description[0] if description else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
