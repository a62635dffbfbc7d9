"""The seam between the captures and the HTML they show in a notebook.

A capture (`convwatch.callbacks`) displays itself with the report's templates, but sits below
the report and cannot import it; the report registers its renderer here when `convwatch` is
imported (`convwatch.report.inline`), and the captures ask for it here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

_RENDERER: list[Callable[[Sequence[Any]], str]] = []


def set_capture_renderer(render: Callable[[Sequence[Any]], str]) -> None:
    """Register the function that turns capture callbacks into HTML (the report's)."""
    _RENDERER[:] = [render]


def captures_html(captures: Sequence[Any]) -> str | None:
    """The captures' latest pictures as HTML, or None where no renderer is registered."""
    return _RENDERER[0](captures) if _RENDERER else None
