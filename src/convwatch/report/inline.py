"""convwatch in a notebook: a run, sweep or capture folder (`show`), and the capture callbacks
themselves (`Capture._repr_html_`, registered here), as HTML for a cell's output.

Built from the pages' own contexts and macros (templates/inline.html), so escaped as the pages
are; but self-contained: each picture is inlined as a data URI (the latest of each series
only, shrunk where wide), its styles are scoped to the output, and it holds no link to follow.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from convwatch.base.notebook import set_capture_renderer
from convwatch.errors import ConvwatchError
from convwatch.report import captions, compare_page, learned, run_page
from convwatch.report.html import figure, image_size, render
from convwatch.report.reader import IMAGE_SUFFIXES, TAG, Artifact, is_run, load_run, runs_below

MAX_WIDTH = 900  # pixels: a wider picture is shrunk to this before it is inlined
MAX_GIF_BYTES = 4 * 2**20  # a larger GIF is shown by its last frame
_MIME = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


class Shown:
    """What `show` returns: displays itself in a notebook; `html` is the same as a string."""

    def __init__(self, path: Path, html: str) -> None:
        self.path = path
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<convwatch.show of {self.path}: shown inline in a notebook; .html is the HTML>"


def show(path: str | os.PathLike[str]) -> Shown:
    """A run folder, a sweep folder (or any folder of runs) or a capture folder (one
    callback's `out_dir`), shown inline in a notebook: `convwatch.show("results/mnist/<run>")`
    as the last line of a cell. A run shows its metrics against the document, its curves
    and each capture's latest pictures; runs side by side show their table, curves and what
    they learned alike; a capture folder its latest pictures with their captions."""
    path = Path(path)
    if not path.is_dir():
        raise ConvwatchError(
            f"show() needs a run, sweep or capture folder. Received: {path} "
            f"({'a file' if path.exists() else 'no such folder'})"
        )
    if is_run(path):
        return Shown(path, render("inline.html", {"kind": "run", **_run(path)}))
    runs = runs_below(path)
    if runs:
        return Shown(path, render("inline.html", {"kind": "runs", **_runs(path, runs)}))
    return Shown(path, render("inline.html", {"kind": "captures", "captures": [_folder(path)]}))


def captures_html(captures: Sequence[Any]) -> str:
    """The capture callbacks' latest pictures, with their captions (`Capture._repr_html_`)."""
    shown = [_folder(Path(c.out_dir), type(c).__name__, _description(c)) for c in captures]
    return render("inline.html", {"kind": "captures", "captures": shown})


set_capture_renderer(captures_html)


def _description(capture: Any) -> captions.Description | None:
    try:
        described = type(capture).describe()
    except Exception:  # noqa: BLE001 - a user's capture that cannot describe itself
        return None
    return captions.compiled_one(type(capture).__name__, described)


def _run(path: Path) -> dict[str, Any]:
    run = load_run(path)
    page = run_page.context(run)
    groups = [
        {**g, "figures": [_inlined(_last(strip), run.path) for strip in g["strips"] if strip]}
        for g in page["groups"]
        if g["name"] != captions.CURVES  # drawn above, as charts
    ]
    keys = ("experiment", "run_id", "status", "description", "metrics", "references", "curves")
    return {**{k: page[k] for k in keys}, "problems": page["problems"], "groups": groups}


def _runs(path: Path, paths: Sequence[Path]) -> dict[str, Any]:
    runs = [load_run(p) for p in paths]
    page = compare_page.context(runs, path, learned=learned.read(path))
    found = page["learned"]
    for agreement in found.get("agreements", []):
        agreement["heatmap"] = agreement["heatmap"] and _inlined(agreement["heatmap"], path)
        for match in agreement["matches"]:
            match["picture"] = match["picture"] and _inlined(match["picture"], path)
    keys = ("heading", "keys", "metrics", "numeric", "runs", "labels", "metric_rows", "curves")
    return {**{k: page[k] for k in keys}, "where": str(path), "learned": found}


def _folder(
    folder: Path, name: str | None = None, description: captions.Description | None = None
) -> dict[str, Any]:
    """One capture folder: its latest picture of each series, captioned."""
    name = name or folder.name
    known = {name: description} if description else captions.installed_descriptions()
    latest: dict[str, Artifact] = {}
    for artifact in _images(folder, name):
        current = latest.get(artifact.series)
        if current is None or _rank(artifact) >= _rank(current):
            latest[artifact.series] = artifact
    figures = [
        _inlined(figure(a.path, folder, captions.caption(a, known)), folder)
        for a in latest.values()
    ]
    about = known.get(name)
    return {"name": name, "about": about.group if about else None, "figures": figures,
            "folder": str(folder)}  # fmt: skip


def _rank(artifact: Artifact) -> tuple[str, bool]:
    """Later snapshots first; of one snapshot, the animation (`conv1_filters.gif`) over its
    last frame (`conv1_filters.png`)."""
    return artifact.tag or "", artifact.path.suffix.lower() == ".gif"


def _last(strip: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A run page's strip of one series (oldest first): its animation if it has one, else
    its last picture."""
    animated = [f for f in strip if f["href"].lower().endswith(".gif")]
    return animated[-1] if animated else strip[-1]


def _images(folder: Path, group: str) -> list[Artifact]:
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.name.startswith("."):
            continue
        if not path.is_file() or path.is_symlink() or "projector" in path.parts:
            continue
        match = TAG.match(path.stem)
        rel = path.relative_to(folder).as_posix()
        series = match["series"] if match else path.stem
        tag = match["tag"] if match else None
        found.append(Artifact(path, rel, group, rel, series, tag, path.stat().st_size))
    return found


def _inlined(figure: dict[str, Any], base: Path) -> dict[str, Any]:
    """A page's figure (its `href` relative to `base`) with the picture as a data URI."""
    path = base / unquote(figure["href"])
    data, mime = _picture(path)
    return {**figure, "src": f"data:{mime};base64,{base64.b64encode(data).decode()}"}


def _picture(path: Path) -> tuple[bytes, str]:
    """The bytes to inline and their MIME type: a wide picture shrunk to MAX_WIDTH, a large
    GIF replaced by its last frame (the page shows it at the width the figure says)."""
    size = image_size(path)
    mime = _MIME.get(path.suffix.lower(), "image/png")
    large_gif = mime == "image/gif" and path.stat().st_size > MAX_GIF_BYTES
    if not large_gif and (size is None or size[0] <= MAX_WIDTH):
        return path.read_bytes(), mime
    from PIL import Image

    with Image.open(path) as image:
        if large_gif:
            image.seek(image.n_frames - 1)
        image = image.convert("RGB")
        if image.width > MAX_WIDTH:
            height = round(image.height * MAX_WIDTH / image.width)
            image = image.resize((MAX_WIDTH, max(height, 1)), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue(), "image/png"
