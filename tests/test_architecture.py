"""The shape of the package a newcomer relies on: small modules and functions, no print outside
the CLI, no hand-made HTML escaping, and only the package face at the top level. The layers and
the absence of import cycles are checked by import-linter in `make lint` (.importlinter)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "convwatch"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def test_the_package_is_where_the_tests_look():
    assert (PACKAGE / "__init__.py").is_file() and len(MODULES) > 50


def test_the_top_level_holds_only_the_package_face():
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert set(loose) <= {"__init__.py", "__main__.py", "cli.py", "errors.py"}, loose


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_modules_and_functions_stay_readable(path: Path):
    source = path.read_text(encoding="utf-8")
    lines = len(source.splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_name(path)} has {lines} lines"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{_name(path)}: {', '.join(long)}"


def _calls(path: Path, name: str) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == name)
            or (isinstance(node.func, ast.Attribute) and node.func.attr == name)
        )
    ]


def test_only_the_cli_prints():
    printing = {
        _name(p): lines for p in MODULES if p.name != "cli.py" and (lines := _calls(p, "print"))
    }
    assert not printing, f"print() outside cli.py (use logging): {printing}"


def _hand_escaping(path: Path) -> list[str]:
    """`import html`, `from html import ...`, `markupsafe.escape` or a function named like an
    escaper: HTML escaping belongs to Jinja's autoescape."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(a.name == "html" for a in node.names):
            found.append(f"import html (line {node.lineno})")
        elif isinstance(node, ast.ImportFrom) and node.module in ("html", "markupsafe"):
            found.append(f"from {node.module} import ... (line {node.lineno})")
        elif isinstance(node, ast.FunctionDef) and node.name.lstrip("_") in ("esc", "escape"):
            found.append(f"def {node.name} (line {node.lineno})")
    return found


def test_html_is_escaped_by_jinja_only():
    hand_made = {_name(p): found for p in MODULES if (found := _hand_escaping(p))}
    assert not hand_made, f"hand-written HTML escaping: {hand_made}"
