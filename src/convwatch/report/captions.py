"""What each capture folder of a run is, and what each of its files shows, in words.

The captures describe themselves (`Capture.describe()`: a group sentence and `(pattern,
caption)` pairs) and the runner records those descriptions in run.json's "captures", in the
order the run page shows them. A folder written before that record existed is described by the
captures installed now (`convwatch.callbacks.descriptions()`), plus the one description the
report keeps itself: the runner's "curves". A file no description matches is named after its
file name ("conv1, after epoch 3").

A pattern is a regex matched against the file's path inside its capture folder (fullmatch);
"{tag}" in it stands for the snapshot tag (`epoch003`, `step000100`); named groups fill the
caption's {placeholders}, and {tag} in a caption becomes words ("after epoch 3", "untrained").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from convwatch.report.reader import Artifact, Run

logger = logging.getLogger(__name__)

CURVES = "curves"
# The runner's own group: drawn from history.csv, not by a capture, so described here.
CURVES_DESCRIPTION = {
    "group": "Training curves drawn by the runner from history.csv.",
    "files": [[r"curves\.png", "Loss and accuracy per epoch, training and validation."]],
}
_TAG = r"(?P<tag>epoch\d+|step\d+)"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Description:
    """One capture folder in words: the sentence heading its section, and its file captions
    as compiled patterns."""

    group: str | None
    files: tuple[tuple[re.Pattern[str], str], ...]


def describe_tag(tag: str | None) -> str:
    """`epoch000` -> "untrained (epoch 0)", `epoch003` -> "after epoch 3", `step000100` ->
    "after step 100"; no tag -> ""."""
    if not tag:
        return ""
    found = re.fullmatch(r"(epoch|step)(\d+)", tag)
    if not found:  # a tag group of some other shape, from a run folder's own pattern
        return tag
    number = int(found[2])
    if found[1] == "epoch":
        return "untrained (epoch 0)" if number == 0 else f"after epoch {number}"
    return f"after step {number}"


def descriptions(run: Run) -> dict[str, Description]:
    """The run's capture descriptions by folder name, in page order: run.json's "captures"
    record, or for an older folder without one, the installed captures' and the curves'."""
    recorded = run.record.get("captures")
    if isinstance(recorded, Mapping):  # the curves are the report's own, should it lack them
        return _compiled({CURVES: CURVES_DESCRIPTION, **recorded})
    return _fallback()


def compiled_one(name: str, described: Mapping[str, Any]) -> Description | None:
    """One capture's `describe()` record as a Description (None where it is malformed)."""
    return _compiled({name: described}).get(name)


def installed_descriptions() -> dict[str, Description]:
    """The installed captures' descriptions (and the curves'), by capture folder name."""
    return _fallback()


def _fallback() -> dict[str, Description]:
    """For a folder without a record: the curves', then the installed captures' descriptions
    (looked up each time: a capture class defined later in the process counts too)."""
    return _compiled({CURVES: CURVES_DESCRIPTION, **_installed()})


def _installed() -> Mapping[str, Any]:
    """`convwatch.callbacks.descriptions()`, or {} where it cannot be had. Imported here, not at
    the top: it loads Keras, which a page of a run that records its captures never needs."""
    try:
        from convwatch.callbacks import descriptions as installed
    except ImportError as error:
        logger.debug("no capture descriptions to caption older run folders: %s", error)
        return {}
    try:
        found = installed()
    except Exception as error:  # a page without captions beats no page
        logger.warning("the captures could not describe themselves: %s", error)
        return {}
    return found if isinstance(found, Mapping) else {}


def _compiled(record: Mapping[str, Any]) -> dict[str, Description]:
    """Descriptions from a JSON record of untrusted shape: entries, pairs or patterns of the
    wrong kind are left out (their files get file-name captions)."""
    found = {}
    for name, entry in record.items():
        if not isinstance(name, str) or not isinstance(entry, Mapping):
            continue
        group = entry.get("group")
        files = entry.get("files")
        pairs = []
        for pair in files if isinstance(files, list | tuple) else []:
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                continue
            pattern, text = pair
            if not (isinstance(pattern, str) and isinstance(text, str)):
                continue
            try:
                pairs.append((re.compile(pattern.replace("{tag}", _TAG)), text))
            except re.error:
                continue
        found[name] = Description(group if isinstance(group, str) else None, tuple(pairs))
    return found


def caption(artifact: Artifact, known: Mapping[str, Description] | None = None) -> str:
    """What the picture or file is, in words, from its capture's description (`known`, by
    default the installed captures') and its file name."""
    known = _fallback() if known is None else known
    description = known.get(artifact.group)
    for pattern, text in description.files if description else ():
        match = pattern.fullmatch(artifact.name)
        if match:
            values = {k: v for k, v in match.groupdict().items() if v is not None}
            values["tag"] = describe_tag(values.get("tag"))
            values.setdefault("name", artifact.name)
            return _filled(text, values)
    words = artifact.series.replace("_", " ").replace("/", ", ")
    return f"{words}, {describe_tag(artifact.tag)}" if artifact.tag else words


def _filled(text: str, values: Mapping[str, str]) -> str:
    """`text` with each {placeholder} that `values` names replaced (no attribute or index
    lookups, unlike str.format: a caption from a run folder can only name values)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)


def group_order(run: Run, groups: list[str]) -> list[str]:
    """The run's capture folders in page order: the curves first; then, where run.json records
    the captures, theirs in its order and any other folder after them by name; for an older
    folder without the record, all by name (as their pages always were)."""
    recorded = run.record.get("captures")
    order = {name: i for i, name in enumerate(recorded)} if isinstance(recorded, Mapping) else {}
    order[CURVES] = -1
    return sorted(groups, key=lambda g: (g not in order, order.get(g, 0), g))
