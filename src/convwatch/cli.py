"""The `convwatch` command: `run`, `run-all`, `resume`, `list`, `compare`, `report`.

Progress and notes come from the library's loggers (names under "convwatch"); the command shows
them on stdout, one plain line each: INFO and above by default, WARNING and above with
`--quiet`, everything (DEBUG) with `--verbose`. The flags go before or after the command
(`convwatch --quiet run X` and `convwatch run X --quiet` are the same). Errors go to stderr.

Exit status: 0 done; 1 a run failed (its run.json says why); 2 bad input (unknown experiment,
bad override, missing or corrupt data, not a run folder, a run to resume that is still alive or
has no checkpoint); 130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM. `report` over folders
that cannot all be read writes what it can, warns of the rest, and exits 0.

`run`, `run-all` and `resume` take the launcher flags: `--launcher local` (the default: one
point after another, in this process) or `--launcher ray` (each point a Ray task, on this
machine's cores or the cluster at `--ray-address`, with `--cpus-per-run`, `--gpus-per-run`,
at most `--max-parallel` at once).
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
from convwatch.report.learned import FOLDER as LEARNED_FOLDER
from convwatch.report.pages import compare_page_path, write_compare_report, write_reports
from convwatch.report.reader import find_runs, load_run
from convwatch.run.catalog import list_experiments, load_experiment
from convwatch.run.learned import PROBE, learned_comparison
from convwatch.run.runner import resume_run, run_all, run_experiment

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


def _number(text: str) -> int | float:
    """A count of CPUs or GPUs: an integer where it is one (2), else a fraction (0.5)."""
    value = float(text)
    return int(value) if value.is_integer() else value


def _launcher_options() -> argparse.ArgumentParser:
    """The launcher flags `run`, `run-all` and `resume` share."""
    flags = argparse.ArgumentParser(add_help=False)
    group = flags.add_argument_group("launcher")
    group.add_argument(
        "--launcher",
        choices=("local", "ray"),
        default="local",
        help="local: one point after another here (default); ray: each point a Ray task",
    )
    group.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="the Ray cluster to join ('auto': one started with `ray start`; default "
        "$RAY_ADDRESS, else a Ray instance on this machine's cores)",
    )
    group.add_argument(
        "--cpus-per-run", type=_number, default=1, metavar="N", help="CPUs a point asks (1)"
    )
    group.add_argument(
        "--gpus-per-run", type=_number, default=0, metavar="N", help="GPUs a point asks (0)"
    )
    group.add_argument(
        "--max-parallel", type=int, metavar="N", help="at most N points at once (no limit)"
    )
    return flags


def _launcher_kwargs(args: argparse.Namespace) -> dict:
    return {
        "launcher": args.launcher,
        "ray_address": args.ray_address,
        "cpus_per_run": args.cpus_per_run,
        "gpus_per_run": args.gpus_per_run,
        "max_parallel": args.max_parallel,
    }


def _running_commands(command) -> None:
    """`run`, `run-all` and `resume`: the commands that run points, with the launcher flags."""
    run = command("run", launched=True, help="run an experiment into a new run folder")
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
    run_all_ = command(
        "run-all", launched=True, help="run several experiments (all where none are named)"
    )
    run_all_.add_argument(
        "names",
        nargs="*",
        metavar="NAME_OR_KEY=VALUE",
        help="experiment names, and overrides for every one of them",
    )
    run_all_.add_argument("--results-dir", default="results", help="where run folders go")
    resume = command(
        "resume",
        launched=True,
        help="continue an interrupted, failed or dead run in its folder from its checkpoint, "
        "or run a sweep folder's points that did not complete",
    )
    resume.add_argument("run", metavar="RUN", help="the run folder, or a sweep folder")


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

    launcher = _launcher_options()

    def command(name: str, launched: bool = False, **kwargs) -> argparse.ArgumentParser:
        parents = [verbosity, launcher] if launched else [verbosity]
        return commands.add_parser(name, parents=parents, **kwargs)

    _running_commands(command)
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
    compare.add_argument(
        "--probe", type=int, default=PROBE, metavar="N",
        help=f"the page's 'What the networks learned': on the first run's first N test images "
        f"({PROBE})",
    )  # fmt: skip
    compare.add_argument(
        "--no-learned", action="store_true",
        help="leave out 'What the networks learned' (CKA and matched filters; loads each model)",
    )  # fmt: skip
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
        if args.command == "run-all":
            return _run_all(args)
        launched = _launcher_kwargs(args)
        if args.command == "resume" or args.resume:
            if args.command == "run" and (args.name or args.overrides):
                raise ConvwatchError("--resume RUN takes no experiment name or overrides")
            where = args.run if args.command == "resume" else args.resume
            print(resume_run(where, experiments_path=args.experiments_dir, **launched))
            return 0
        if args.name is None:
            raise ConvwatchError("run needs an experiment name (see `convwatch list`)")
        path = run_experiment(
            args.name,
            args.overrides,
            args.results_dir,
            experiments_path=args.experiments_dir,
            **launched,
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


def _run_all(args: argparse.Namespace) -> int:
    """`run-all`: the names, and the key=value overrides given to every one of them."""
    overrides = [n for n in args.names if "=" in n]
    names = [n for n in args.names if "=" not in n]
    paths = run_all(
        names,
        overrides,
        args.results_dir,
        experiments_path=args.experiments_dir,
        **_launcher_kwargs(args),
    )
    for path in paths:
        print(path)
    return 0


def _note(message: str) -> None:
    print(f"convwatch: {message}", file=sys.stderr)


def _report(paths: Sequence[str]) -> int:
    """Rebuild the pages. A folder that cannot be read in full gets a page saying what is
    wrong and one warning line here; the others go on, and the exit status stays 0."""
    for path in write_reports(paths):
        print(path)
    return 0


def _compare(args: argparse.Namespace) -> int:
    if args.probe < 4:
        raise ConvwatchError(f"--probe must be at least 4 images. Received: {args.probe}")
    runs = [load_run(p) for p in find_runs(args.runs, warn=_note)]
    table = compare_table(runs, args.sort, args.reverse, args.metrics)
    sys.stdout.write(format_table(table, args.format))
    if args.out:
        learned = None
        if not args.no_learned:
            folder = compare_page_path(args.out).parent / LEARNED_FOLDER
            learned = learned_comparison(table.runs, folder, args.probe)
            if isinstance(learned, str):
                _note(f"what the networks learned is not compared: {learned}")
        _note(f"wrote {write_compare_report(table.runs, args.out, learned=learned)}")
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
