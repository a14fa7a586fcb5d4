"""How fmc.testing is laid out: no import circles, no module past the size limit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fmc.testing

PACKAGE = Path(fmc.testing.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
MAX_LINES = 450


def imported_siblings(path: Path) -> set[str]:
    """The fmc.testing modules a module imports: top level, TYPE_CHECKING or inside a function."""
    siblings = {module.stem for module in MODULES}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            head, _, rest = name.partition("fmc.testing.")
            if not head and rest.split(".")[0] in siblings:
                found.add(rest.split(".")[0])
    return found - {path.stem}


def test_no_import_circles() -> None:
    """No fmc.testing module imports, however indirectly, a module that imports it back."""
    graph = {path.stem: imported_siblings(path) for path in MODULES if path.stem != "__init__"}
    circles = []
    for start in graph:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            module = todo.pop()
            if module == start:
                circles.append(start)
                break
            if module not in seen:
                seen.add(module)
                todo.extend(graph.get(module, ()))
    assert circles == []


@pytest.mark.parametrize("path", MODULES, ids=[path.name for path in MODULES])
def test_module_size(path: Path) -> None:
    """Every module of fmc.testing stays within 450 lines."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES
