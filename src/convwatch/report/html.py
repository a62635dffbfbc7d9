"""What every page shares: the Jinja2 templates (autoescape on), relative links, figures at a
readable size, status badges and the colour of each run.

Pages are `templates/*.html` rendered from plain dicts; Jinja2 escapes every value that comes
from a config, a run folder or a file name, so a page never runs what a run folder holds.
Links are relative and URL-quoted here (`href`), so a page works from the file system and from
any web server rooted above the runs. The pages need no script and no server: a page of a
running run reloads itself with a `<meta http-equiv="refresh">` (`REFRESH_S`), which a page
written once the run has ended no longer carries.
"""

from __future__ import annotations

import functools
import os
import struct
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

# matplotlib's tab10: the colour of run i in every chart and table of a comparison.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
STATUSES = ("completed", "failed", "interrupted", "running", "dead")
DASH = "—"  # an absent value
# Seconds between two reloads of a page that shows a running run (its own page, its sweep's,
# the results index): about as often as a short epoch ends, rarely enough to read the page.
REFRESH_S = 10


@functools.cache
def environment() -> jinja2.Environment:
    """The templates of `convwatch/report/templates`, every value HTML-escaped."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("convwatch.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, context: dict[str, Any]) -> str:
    """The page `template` (a file in templates/) filled from `context`."""
    return environment().get_template(template).render(context)


def refresh(live: bool) -> int | None:
    """The page's reload interval: `REFRESH_S` while it shows a live run, else None (no tag)."""
    return REFRESH_S if live else None


def color(i: int) -> str:
    """The colour of the i-th run of a comparison."""
    return PALETTE[i % len(PALETTE)]


def href(target: str | os.PathLike[str], base: str | os.PathLike[str]) -> str:
    """A relative, URL-quoted link from a page in folder `base` to `target` (a folder's link
    ends with /). Relative links work from the file system and from any web server rooted
    above both."""
    relative = os.path.relpath(os.path.abspath(target), os.path.abspath(base))
    link = quote(Path(relative).as_posix(), safe="/")
    return link + "/" if Path(target).is_dir() else link


def link(target: Path, base: Path, text: str) -> dict[str, str]:
    """A link for the templates: {"href", "text"}."""
    return {"href": href(target, base), "text": text}


def status(name: str, reason: str = "") -> dict[str, str]:
    """A status badge for the templates: the status, its colour class, and `reason` (why a run
    is dead) shown on hover."""
    return {"name": name, "css": name if name in STATUSES else "unknown", "reason": reason}


def size_text(n: float) -> str:
    """A file size in words: `512 B`, `3.4 KB`, `12.0 MB`."""
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def image_size(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(width, height) of a PNG or GIF read from its header, or None (no image library needed)."""
    try:
        with open(path, "rb") as f:
            head = f.read(26)
    except OSError:
        return None
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", head[6:10])
    return None


def figure(path: Path, base: Path, caption: str, target_width: int = 560) -> dict[str, Any]:
    """An image for the templates at a readable size (a small mural scaled up by a whole
    factor, at most 4, drawn with sharp pixels) with its caption."""
    size = image_size(path)
    width = height = None
    scale = 1
    if size and size[0] > 0:
        scale = max(1, min(4, round(target_width / size[0])))
        width, height = size[0] * scale, size[1] * scale
    return {
        "href": href(path, base),
        "caption": caption,
        "width": width,
        "height": height,
        "pixel": scale > 1,
    }
