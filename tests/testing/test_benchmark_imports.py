"""Every name a benchmark script imports from fmc or from the benchmarks' folder exists.

The benchmarks run by hand, not in the suite, so a moved or renamed name would
otherwise break them silently (``bench_scale.py`` once imported the harness
from :mod:`fmc.testing` after it had moved to ``benchmarks/``). Third-party
imports are left to the ``bench`` extra.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
OWN = {path.stem for path in BENCHMARKS.glob("*.py")}


def _imports(script: Path) -> Iterator[tuple[str, str | None]]:
    """``(module, name)`` for every import of fmc or of a sibling script (``name`` None: whole).

    Imports inside an ``except`` handler are left out: they are fallbacks for
    older trees, tried only when the first import fails.
    """
    tree = ast.parse(script.read_text(encoding="utf-8"))
    fallbacks = {
        id(node)
        for handler in ast.walk(tree)
        if isinstance(handler, ast.ExceptHandler)
        for node in ast.walk(handler)
    }
    for node in ast.walk(tree):
        if id(node) in fallbacks:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in {"fmc", *OWN}:
                yield from ((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in {"fmc", *OWN}:
                    yield alias.name, None


@pytest.fixture
def benchmarks_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmarks' folder importable, as it is when a script runs."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    for name in OWN:
        monkeypatch.delitem(sys.modules, name, raising=False)


@pytest.mark.usefixtures("benchmarks_on_path")
@pytest.mark.parametrize("script", sorted(BENCHMARKS.glob("*.py")), ids=lambda p: p.name)
def test_every_fmc_name_a_benchmark_imports_exists(script: Path) -> None:
    """Each ``from fmc... import name`` (and from a sibling script) resolves today."""
    missing = []
    for module_name, name in _imports(script):
        module = importlib.import_module(module_name)
        if name is not None and not hasattr(module, name):
            try:
                importlib.import_module(f"{module_name}.{name}")
            except ImportError:
                missing.append(f"{module_name}.{name}")
    assert not missing, f"{script.name} imports names that do not exist: {missing}"
