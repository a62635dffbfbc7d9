"""The `convwatch` command: `run`, `resume`, `list`, `compare`, `report`.

Progress and notes come from the library's loggers (names under "convwatch"); the command shows
them on stdout, one plain line each: INFO and above by default, WARNING and above with
`--quiet`, everything (DEBUG) with `--verbose`. The flags go before or after the command
(`convwatch --quiet run X` and `convwatch run X --quiet` are the same). Errors go to stderr.

Exit status: 0 done; 1 a run failed (its run.json says why); 2 bad input (unknown experiment,
bad override, missing or corrupt data, not a run folder, a run to resume that is still alive or
has no checkpoint); 130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM. `report` over folders
that cannot all be read writes what it can, warns of the rest, and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence

from convwatch.errors import ConvwatchError, RunFailed
from convwatch.report.compare import compare_table, format_table
from convwatch.report.pages import write_compare_report, write_reports
from convwatch.report.reader import find_runs, load_run
from convwatch.run.catalog import list_experiments, load_experiment
from convwatch.run.runner import resume_run, run_experiment

# TensorFlow prints device and CPU-feature notices at import; keep the console for the run.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


LEVELS = {"quiet": logging.WARNING, "normal": logging.INFO, "verbose": logging.DEBUG}


def _verbosity_options(parser: argparse.ArgumentParser, default: str | None) -> None:
    """-q/--quiet and -v/--verbose on `parser`. The sub-commands get them too, with a default
    that leaves the value given before the command alone (argparse.SUPPRESS)."""
    group = parser.add_mutually_exclusive_group()
    shared = {"dest": "verbosity", "action": "store_const", "default": default}
    group.add_argument(
        "-q", "--quiet", const="quiet", help="show only warnings and errors", **shared
    )
    group.add_argument(
        "-v", "--verbose", const="verbose", help="show debugging messages too", **shared
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convwatch",
        description="Watch convolutional networks learn.",
        epilog="-q/--quiet and -v/--verbose may also come after the command.",
    )
    parser.add_argument(
        "--experiments-dir",
        default=None,
        help="folder of experiment modules (default: $CONVWATCH_EXPERIMENTS or ./experiments)",
    )
    _verbosity_options(parser, default="normal")
    verbosity = argparse.ArgumentParser(add_help=False)
    _verbosity_options(verbosity, default=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[verbosity], **kwargs)

    run = command("run", help="run an experiment into a new run folder")
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
    resume = command(
        "resume",
        help="continue an interrupted, failed or dead run in its folder from its checkpoint",
    )
    resume.add_argument("run", metavar="RUN", help="the run folder")
    command("list", help="list the available experiments")
    compare = command(
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
    report = command("report", help="rebuild index.html of runs, sweeps, results")
    report.add_argument("paths", nargs="+", metavar="PATH", help="run, sweep or results folders")
    return parser


@contextlib.contextmanager
def _console(level: int) -> Iterator[None]:
    """Show the "convwatch" loggers' records at `level` and above while inside: progress on
    stdout, warnings and errors on stderr (prefixed "convwatch: ", like the CLI's own errors).

    The handlers are made here, on the sys.stdout/sys.stderr of the moment (so pytest's capsys
    sees them), and removed on the way out with the logger's level put back, so that calling
    `main` again does not print every line twice.
    """
    logger = logging.getLogger("convwatch")
    progress = logging.StreamHandler(sys.stdout)
    progress.setFormatter(logging.Formatter("%(message)s"))
    progress.addFilter(lambda record: record.levelno < logging.WARNING)
    problems = logging.StreamHandler(sys.stderr)
    problems.setFormatter(logging.Formatter("convwatch: %(message)s"))
    handlers = (progress, problems)
    progress.setLevel(level)
    problems.setLevel(max(level, logging.WARNING))
    previous = logger.level
    for handler in handlers:
        logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.flush()
        logger.setLevel(previous)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with _console(LEVELS[args.verbosity]):
        return _command(args)


def _command(args: argparse.Namespace) -> int:
    """Run the chosen command; errors become a message on stderr and the exit status."""
    try:
        if args.command == "list":
            return _list(args.experiments_dir)
        if args.command == "compare":
            return _compare(args)
        if args.command == "report":
            return _report(args.paths)
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
    for path in write_reports(paths):
        print(path)
    return 0


def _compare(args: argparse.Namespace) -> int:
    runs = [load_run(p) for p in find_runs(args.runs, warn=_note)]
    table = compare_table(runs, args.sort, args.reverse, args.metrics)
    sys.stdout.write(format_table(table, args.format))
    if args.out:
        _note(f"wrote {write_compare_report(table.runs, args.out)}")
    return 0


def _list(experiments_dir: str | None) -> int:
    names = list_experiments(experiments_dir)
    width = max((len(n) for n in names), default=0)
    for name in names:
        description = load_experiment(name, experiments_dir).description.strip().splitlines()
        print(f"{name:<{width}}  {description[0] if description else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
