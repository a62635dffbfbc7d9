"""HTML building blocks for the report pages: escaping, links, tables, figures, SVG line charts.

Plain Python and `html.escape`: every string that comes from a config, a run folder or a file
name goes through `esc` (text) or `href` (links), so a page never runs what a run folder holds.
The pages need no script and no server; charts are inline SVG, images are the run's own files.
"""

from __future__ import annotations

import html
import math
import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

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

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1280px;
       padding: 0 1.2em 3em; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.5em; margin: 0.8em 0 0.3em; } h2 { margin-top: 1.6em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; } h3 { margin: 1.2em 0 0.4em; }
nav.toc a, nav.crumbs a { margin-right: 1em; } nav.crumbs { margin-top: 1em; color: #666; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f7; } td.num { text-align: right; } td.best { font-weight: 700; }
.scroll { overflow-x: auto; }
code, pre { font: 13px/1.35 ui-monospace, monospace; } pre { background: #f5f5f7;
     padding: 0.6em; overflow-x: auto; white-space: pre-wrap; }
.status { display: inline-block; padding: 0.05em 0.6em; border-radius: 1em; color: #fff;
          font-size: 0.85em; font-weight: 600; vertical-align: middle; }
.status-completed { background: #2e7d32; } .status-failed { background: #c62828; }
.status-interrupted { background: #ef6c00; } .status-running { background: #1565c0; }
.status-unknown { background: #757575; } .status-dead { background: #37474f; }
.note { border-left: 4px solid #ef6c00; background: #fff8e1; padding: 0.5em 0.9em;
        margin: 0.8em 0; } .note.bad { border-color: #c62828; background: #ffebee; }
.note ul { margin: 0.2em 0; padding-left: 1.2em; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: 0; max-width: 100%; } figcaption { font-size: 0.9em; color: #444;
         max-width: 36em; } figure img { max-width: 100%; height: auto; display: block;
         border: 1px solid #eee; } img.pixel { image-rendering: pixelated; }
.side { display: grid; gap: 1em; grid-auto-flow: column; grid-auto-columns: minmax(260px, 1fr);
        overflow-x: auto; align-items: start; }
.side > div { min-width: 0; } .side .missing { color: #888; font-style: italic; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;
          vertical-align: -0.1em; margin-right: 0.3em; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5em; } .chart > svg { display: block; }
td a, td .status, .nowrap { white-space: nowrap; }
.figures.series { flex-wrap: nowrap; overflow-x: auto; padding-bottom: 0.5em; }
.figures.series figure { flex: none; }
.legend { font-size: 0.85em; } .legend span { margin-right: 1em; white-space: nowrap; }
.muted { color: #666; } dl.facts { display: grid; grid-template-columns: max-content 1fr;
         gap: 0.2em 1em; } dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
"""


def esc(value: Any) -> str:
    """`value` as HTML text, quotes escaped too (safe inside attributes)."""
    return html.escape(str(value), quote=True)


def href(target: str | os.PathLike[str], base: str | os.PathLike[str]) -> str:
    """A relative, URL-quoted, HTML-escaped link from a page in folder `base` to `target`.

    Relative links work from the file system and from any web server rooted above both.
    """
    relative = os.path.relpath(os.path.abspath(target), os.path.abspath(base))
    link = quote(Path(relative).as_posix(), safe="/")
    if Path(target).is_dir():
        link += "/"
    return esc(link)


def page(title: str, body: str, crumbs: str = "") -> str:
    """A whole HTML document: no script, no external resource, an empty favicon."""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        "<meta http-equiv='Content-Security-Policy' content=\"script-src 'none'; "
        "object-src 'none'; base-uri 'none'\">\n"
        "<link rel='icon' href='data:,'>\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style></head>\n<body>\n"
        f"{crumbs}{body}\n"
        "<p class='muted'>Written by convwatch. Works from the file system: no server needed."
        "</p>\n</body></html>\n"
    )


STATUSES = ("completed", "failed", "interrupted", "running", "dead")


def status_badge(status: str, reason: str = "") -> str:
    """A coloured badge for a run's status; `reason` (why a run is dead) shows on hover."""
    known = status if status in STATUSES else "unknown"
    title = f" title='{esc(reason)}'" if reason else ""
    return f"<span class='status status-{known}'{title}>{esc(status)}</span>"


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    numeric: Sequence[bool] | None = None,
    raw: bool = False,
) -> str:
    """A table; cells are escaped unless `raw` (then they are HTML already)."""
    cell = (lambda v: str(v)) if raw else esc
    out = ["<div class='scroll'><table><thead><tr>"]
    out += [f"<th>{cell(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for i, value in enumerate(row):
            css = " class='num'" if numeric and i < len(numeric) and numeric[i] else ""
            out.append(f"<td{css}>{cell(value)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def facts(items: Mapping[str, Any]) -> str:
    """A definition list of label -> value (values escaped; None shown as a dash)."""
    rows = "".join(
        f"<dt>{esc(k)}</dt><dd>{'—' if v is None or v == '' else esc(v)}</dd>"
        for k, v in items.items()
    )
    return f"<dl class='facts'>{rows}</dl>"


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


def figure(path: Path, base: Path, caption: str, target_width: int = 560) -> str:
    """An image at a readable size (small murals scaled up by a whole factor) with its caption."""
    size = image_size(path)
    attrs, css = "", ""
    if size and size[0] > 0:
        scale = max(1, min(4, round(target_width / size[0])))
        attrs = f" width='{size[0] * scale}' height='{size[1] * scale}'"
        css = " class='pixel'" if scale > 1 else ""
    link = href(path, base)
    return (
        f"<figure><a href='{link}'><img src='{link}' alt='{esc(caption)}'{attrs}{css} "
        f"loading='lazy'></a><figcaption>{esc(caption)}</figcaption></figure>"
    )


# ------------------------------------------------------------------------------- charts
@dataclass
class Line:
    """One line of a chart: its legend label, colour, dashed or not, and (x, y) points."""

    label: str
    color: str
    points: list[tuple[float, float]]
    dashed: bool = False


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not high > low or not math.isfinite(high - low):
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _label(value: float) -> str:
    return f"{value:.4g}"


def line_chart(
    title: str, lines: Sequence[Line], x_label: str = "epoch", key: Sequence[Line] | None = None
) -> str:
    """An inline SVG line chart with axes, ticks and a hover title on every point; the legend
    shows `key` (default: the lines)."""
    width, height, left, right, top, bottom = 460, 270, 56, 12, 26, 38
    points = [p for line in lines for p in line.points if all(map(math.isfinite, p))]
    if not points:
        return f"<div class='chart'><b>{esc(title)}</b><p class='muted'>no values</p></div>"
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x0 == x1:
        x0, x1 = x0 - max(1.0, abs(x0) * 1e-6), x1 + max(1.0, abs(x1) * 1e-6)
    pad = (y1 - y0) * 0.06 or abs(y0) * 0.1 or 1.0
    y0, y1 = y0 - pad, y1 + pad
    spans = (x1 - x0, y1 - y0)
    if not all(math.isfinite(d) and d > 0 for d in spans):  # values near the float limits
        return (
            f"<div class='chart'><b>{esc(title)}</b><p class='muted'>values too large to draw "
            f"(from {esc(_label(min(ys)))} to {esc(_label(max(ys)))})</p></div>"
        )

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def sy(y: float) -> float:
        return top + (y1 - y) / (y1 - y0) * (height - top - bottom)

    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{esc(title)}'>",
        f"<text x='{width / 2}' y='16' text-anchor='middle' font-size='13' "
        f"font-weight='600'>{esc(title)}</text>",
    ]
    for y in _nice_ticks(y0, y1):
        out.append(
            f"<line x1='{left}' x2='{width - right}' y1='{sy(y):.1f}' y2='{sy(y):.1f}' "
            f"stroke='#e5e5e5'/><text x='{left - 5}' y='{sy(y) + 4:.1f}' text-anchor='end' "
            f"font-size='11'>{esc(_label(y))}</text>"
        )
    x_ticks = [x for x in _nice_ticks(x0, x1, 6) if x == int(x)] or [x0, x1]
    for x in x_ticks:
        out.append(
            f"<text x='{sx(x):.1f}' y='{height - bottom + 15}' text-anchor='middle' "
            f"font-size='11'>{esc(_label(x))}</text>"
        )
    out.append(
        f"<rect x='{left}' y='{top}' width='{width - left - right}' "
        f"height='{height - top - bottom}' fill='none' stroke='#999'/>"
        f"<text x='{(left + width - right) / 2}' y='{height - 4}' text-anchor='middle' "
        f"font-size='11'>{esc(x_label)}</text>"
    )
    for line in lines:
        good = [p for p in line.points if all(map(math.isfinite, p))]
        if not good:
            continue
        dash = " stroke-dasharray='6 4'" if line.dashed else ""
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in good)
        out.append(
            f"<polyline points='{path}' fill='none' stroke='{esc(line.color)}' "
            f"stroke-width='2'{dash}/>"
        )
        for x, y in good:
            out.append(
                f"<circle cx='{sx(x):.1f}' cy='{sy(y):.1f}' r='3' fill='{esc(line.color)}'>"
                f"<title>{esc(line.label)}, {esc(x_label)} {esc(_label(x))}: "
                f"{esc(_label(y))}</title></circle>"
            )
    out.append("</svg>")
    return f"<div class='chart'>{''.join(out)}{legend(lines if key is None else key)}</div>"


def legend(lines: Sequence[Line]) -> str:
    items = []
    for line in lines:
        dash = " stroke-dasharray='6 4'" if line.dashed else ""
        items.append(
            f"<span><svg width='26' height='8' aria-hidden='true'><line x1='0' x2='26' y1='4' "
            f"y2='4' stroke='{esc(line.color)}' stroke-width='2'{dash}/></svg> "
            f"{esc(line.label)}</span>"
        )
    return f"<div class='legend'>{''.join(items)}</div>"
