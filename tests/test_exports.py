"""Each package's public names come from one place, and its views of them agree.

A package that loads its names lazily (``fmc``, ``fmc.channel``,
``fmc.testing``, ``fmc.transport``, ``fmc.webhook``) keeps one table,
``_EXPORTS`` (name -> module), from which ``__all__``, ``__getattr__`` and
``__dir__`` are derived; type checkers read the ``TYPE_CHECKING`` imports
instead, so these tests parse the source and prove the imports name the
same objects from the same modules. A package that imports its names
eagerly exports exactly the names it imports.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import fmc

ROOT = Path(fmc.__file__).parent

#: Packages with a lazy ``_EXPORTS`` table.
LAZY_PACKAGES = ["fmc", "fmc.channel", "fmc.testing", "fmc.transport", "fmc.webhook"]

#: Packages that import their public names eagerly.
EAGER_PACKAGES = [
    "fmc.cli",
    "fmc.models",
    "fmc.platform",
    "fmc.policy",
    "fmc.scale",
    "fmc.store",
]

#: Names a package defines itself rather than imports.
OWN_NAMES = {"fmc": {"__version__"}}


def _source(package: str) -> ast.Module:
    path = ROOT.joinpath(*package.split(".")[1:], "__init__.py")
    return ast.parse(path.read_text(encoding="utf-8"))


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _table(tree: ast.Module) -> dict[str, str]:
    """The literal ``_EXPORTS`` table of a package's source."""
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == "_EXPORTS" and node.value is not None:
            table: dict[str, str] = ast.literal_eval(node.value)
            return table
    raise AssertionError("no literal _EXPORTS table")


def _type_checking_imports(tree: ast.Module) -> list[tuple[str, str, str | None]]:
    """``(name, module, alias)`` of every import under ``if TYPE_CHECKING:``."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom):
                    found += [(a.name, statement.module or "", a.asname) for a in statement.names]
    return found


def _eager_imports(tree: ast.Module) -> set[str]:
    """The names bound by a module's top-level ``from … import`` statements."""
    return {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for alias in node.names
    }


@pytest.mark.parametrize("package", LAZY_PACKAGES)
class TestLazyPackage:
    def test_type_checking_imports_match_the_table(self, package: str) -> None:
        """The TYPE_CHECKING block imports exactly the table's names, each from its module."""
        tree = _source(package)
        imported = {(name, module) for name, module, _alias in _type_checking_imports(tree)}
        assert imported == set(_table(tree).items())

    def test_type_checking_imports_are_explicit_re_exports(self, package: str) -> None:
        """Every TYPE_CHECKING import is written ``X as X``, which mypy --strict re-exports."""
        imports = _type_checking_imports(_source(package))
        assert [name for name, _module, alias in imports if alias != name] == []

    def test_all_is_the_sorted_table(self, package: str) -> None:
        """__all__ is the table's names (and the package's own), sorted."""
        module = importlib.import_module(package)
        expected = sorted({*_table(_source(package)), *OWN_NAMES.get(package, set())})
        assert module.__all__ == expected

    def test_every_name_is_the_object_of_its_module(self, package: str) -> None:
        """Each name resolves, lazily, to the very object its table entry names."""
        module = importlib.import_module(package)
        wrong = [
            name
            for name, home in _table(_source(package)).items()
            if getattr(module, name) is not getattr(importlib.import_module(home), name)
        ]
        assert wrong == []

    def test_dir_lists_every_public_name(self, package: str) -> None:
        """dir() shows every name of __all__, loaded or not."""
        module = importlib.import_module(package)
        assert set(module.__all__) <= set(dir(module))

    def test_an_unknown_name_is_an_attribute_error(self, package: str) -> None:
        """A name outside the table raises AttributeError naming it."""
        module = importlib.import_module(package)
        with pytest.raises(AttributeError, match="NoSuchName"):
            _ = module.NoSuchName


@pytest.mark.parametrize("package", EAGER_PACKAGES)
def test_an_eager_package_exports_what_it_imports(package: str) -> None:
    """An eager package's __all__ is exactly the set of names its __init__ imports."""
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(_eager_imports(_source(package)))
