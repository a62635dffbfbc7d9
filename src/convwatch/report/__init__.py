"""Reading run folders and showing them: the one reader, comparison tables, the HTML pages,
overlays of several runs, and TensorBoard images."""

from convwatch.report.pages import (
    write_compare_report,
    write_reports,
    write_results_index,
    write_run_report,
    write_sweep_report,
)

__all__ = [
    "write_compare_report",
    "write_reports",
    "write_results_index",
    "write_run_report",
    "write_sweep_report",
]
