"""STYLE.md's limits, kept by a test: no constructor over 8 parameters and no module over 400
lines in ``bots/``, ``keerpunt/`` and ``portal/`` (a wider object wants splitting, not a
bigger bag)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bots", "keerpunt", "portal")
MAX_PARAMETERS = 8
MAX_LINES = 400


def modules(root: Path) -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((root / package).rglob("*.py"))


def wide_constructors(root: Path) -> list[str]:
    """Every ``__init__`` taking more than MAX_PARAMETERS parameters (``self`` not counted;
    ``*args`` and ``**kwargs`` count one each)."""
    found = []
    for path in modules(root):
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if not isinstance(node, ast.ClassDef):
                continue
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == "__init__":
                    a = item.args
                    count = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) - 1
                    count += (a.vararg is not None) + (a.kwarg is not None)
                    if count > MAX_PARAMETERS:
                        found.append(f"{path.relative_to(root)}: {node.name}.__init__ takes {count}")
    return found


def long_modules(root: Path) -> list[str]:
    found = []
    for path in modules(root):
        lines = len(path.read_text("utf-8").splitlines())
        if lines > MAX_LINES:
            found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def test_no_constructor_takes_more_than_eight_parameters() -> None:
    assert wide_constructors(ROOT) == []


def test_no_module_is_longer_than_four_hundred_lines() -> None:
    assert long_modules(ROOT) == []


@pytest.fixture
def bad_tree(tmp_path: Path) -> Path:
    """A tree with one constructor and one module past the limits (and one of each just within)."""
    (tmp_path / "bots").mkdir()
    (tmp_path / "bots" / "wide.py").write_text(
        "class Fine:\n    def __init__(self, a, b, c, d, e, f, g, *, h):\n        pass\n\n\n"
        "class Wide:\n    def __init__(self, a, b, c, d, e, f, g, *more, h):\n        pass\n"
    )
    (tmp_path / "keerpunt").mkdir()
    (tmp_path / "keerpunt" / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "short.py").write_text("x = 1\n" * MAX_LINES)
    return tmp_path


def test_the_checks_catch_a_constructor_and_a_module_past_the_limits(bad_tree: Path) -> None:
    assert wide_constructors(bad_tree) == ["bots/wide.py: Wide.__init__ takes 9"]
    assert long_modules(bad_tree) == [f"keerpunt/long.py: {MAX_LINES + 1} lines"]
