"""The package table in docs/contributing.rst is the layering rule, and fmc obeys it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fmc"
GUIDE = ROOT / "docs" / "contributing.rst"

_ROW = re.compile(
    r"^   \* - ``(fmc(?:\.\w+)?)``\n(?P<body>(?:     .*\n|\n)+?)(?=   \* - |\S|\Z)", re.M
)
_NAME = re.compile(r"``(fmc(?:\.\w+)?)``")


def _unit_of(module: str) -> str:
    """The table row a dotted module belongs to: ``fmc.store._dialect`` -> ``fmc.store``."""
    return ".".join(module.split(".")[:2])


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every fmc module *path* imports, wherever the import statement stands."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "fmc":
                # ``from fmc import errors`` names a module; ``from fmc import X`` a re-export.
                for alias in node.names:
                    yield (
                        node.lineno,
                        f"fmc.{alias.name}"
                        if (PACKAGE / alias.name).exists()
                        or (PACKAGE / f"{alias.name}.py").exists()
                        else "fmc",
                    )
            else:
                yield node.lineno, target


def _table() -> dict[str, frozenset[str] | None]:
    """Package -> the packages it may import (``None``: every package)."""
    rows: dict[str, frozenset[str] | None] = {}
    text = GUIDE.read_text(encoding="utf-8")
    for match in _ROW.finditer(text):
        cells = re.split(r"^     - ", match.group("body"), flags=re.M)
        allowed = cells[-1]
        names = frozenset(_NAME.findall(allowed))
        rows[match.group(1)] = None if "every package" in allowed else names
    return rows


def _units() -> set[str]:
    found = set()
    for path in PACKAGE.iterdir():
        if path.is_dir() and (path / "__init__.py").exists():
            found.add(f"fmc.{path.name}")
        elif path.suffix == ".py" and path.name != "__init__.py":
            found.add(f"fmc.{path.stem}")
    return found


def test_the_table_has_a_row_for_every_package_and_top_level_module() -> None:
    assert set(_table()) == _units()


def test_the_table_names_only_packages_that_exist() -> None:
    units = _units()
    for package, allowed in _table().items():
        assert allowed is None or allowed <= units, package


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_imports_only_what_its_package_may(path: Path) -> None:
    module = _module_name(path)
    if module == "fmc":
        return  # the facade re-exports every layer by design
    unit = _unit_of(module)
    allowed = _table()[unit]
    if allowed is None:
        return
    wrong = [
        f"line {line}: {target}"
        for line, target in _imports(path)
        if target.split(".")[0] == "fmc" and _unit_of(target) not in {unit, *allowed}
    ]
    assert not wrong, f"{module} imports outside its row in docs/contributing.rst: {wrong}"
