"""The experiment captures, found from the classes themselves: no list to keep up to date.

A `Capture` subclass that declares a `group` of its own is an experiment capture; defining it
(importing its module) is what registers it. The runner looks a declared name up here, and the
report reads the descriptions for a run folder that predates run.json's own record of them.
"""

from __future__ import annotations

from typing import Any

from convwatch.callbacks.capture import Capture


def registered() -> dict[str, type[Capture]]:
    """Every Capture subclass, wherever defined, that declares a group of its own, by class
    name, in the order the classes were defined (a later class of the same name wins)."""
    found: dict[str, type[Capture]] = {}
    stack = list(reversed(Capture.__subclasses__()))
    while stack:
        cls = stack.pop()
        if vars(cls).get("group") is not None:
            found[cls.__name__] = cls
        stack.extend(reversed(cls.__subclasses__()))
    return found


def descriptions() -> dict[str, dict[str, Any]]:
    """`{name: cls.describe()}` for every registered capture."""
    return {name: cls.describe() for name, cls in registered().items()}
