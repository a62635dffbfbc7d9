"""Reading run folders and showing them: the one reader (`reader`), comparison tables
(`compare`), the HTML pages (`pages`, drawn by Jinja2 templates from the dicts of `run_page`,
`compare_page`, `sweep_page` and `index_page`; the run page charts the filter atlas's dead
filters, `dead_filters`), overlays of several runs (`overlays`), TensorBoard images
(`tensorboard_images`), and all of it inline in a notebook (`inline`: `show`)."""

from convwatch.report.compare import compare_table, format_table
from convwatch.report.inline import show
from convwatch.report.pages import (
    write_compare_report,
    write_reports,
    write_results_index,
    write_run_report,
    write_sweep_report,
)
from convwatch.report.reader import find_runs, load_run

__all__ = [
    "compare_table",
    "find_runs",
    "format_table",
    "load_run",
    "show",
    "write_compare_report",
    "write_reports",
    "write_results_index",
    "write_run_report",
    "write_sweep_report",
]
