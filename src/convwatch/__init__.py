"""convwatch: declarative Keras 3 experiments, capture callbacks and run folders to compare."""

import logging

from convwatch.errors import ConvwatchError, DataError, RunFailed
from convwatch.report.compare import compare_table, format_table
from convwatch.report.inline import show
from convwatch.report.pages import write_compare_report, write_results_index, write_run_report
from convwatch.report.reader import find_runs, load_run
from convwatch.run.catalog import list_experiments, load_experiment
from convwatch.run.folder import RunFolder
from convwatch.run.overrides import apply_overrides, override_keys
from convwatch.run.runner import run_experiment
from convwatch.run.spec import Compile, Data, Experiment, Fit, Optimizer, Reference

# A library logs, the application shows: nothing reaches the console unless the program
# (the `convwatch` command, or a user's own logging setup) asks for it.
logging.getLogger("convwatch").addHandler(logging.NullHandler())

__version__ = "0.1.0"

__all__ = [
    "Compile",
    "ConvwatchError",
    "Data",
    "DataError",
    "Experiment",
    "Fit",
    "Optimizer",
    "Reference",
    "RunFailed",
    "RunFolder",
    "apply_overrides",
    "compare_table",
    "find_runs",
    "format_table",
    "list_experiments",
    "load_experiment",
    "load_run",
    "override_keys",
    "run_experiment",
    "show",
    "write_compare_report",
    "write_results_index",
    "write_run_report",
]
