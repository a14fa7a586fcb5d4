"""fmc's modules import one another without circles.

The graph is read statically from the source: the imports a module runs when
it is loaded (module level, including ``try``/``if`` blocks and class bodies),
not those under ``if TYPE_CHECKING:`` nor those inside functions, which run
only when called. Importing ``a.b.c`` also runs the packages ``a`` and
``a.b``, except the packages the importing module sits in: those are already
being loaded when it runs.
"""

from __future__ import annotations

import ast
from collections.abc import Container, Iterator
from pathlib import Path

import fmc

ROOT = Path(fmc.__file__).parent


def _modules() -> dict[str, Path]:
    """Every module of fmc by its dotted name."""
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _load_time_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when a module is loaded."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _load_time_imports(node.orelse)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    statements = [n for n in block if isinstance(n, ast.stmt)]
                    handlers = [n for n in block if isinstance(n, ast.ExceptHandler)]
                    yield from _load_time_imports(statements)
                    for handler in handlers:
                        yield from _load_time_imports(handler.body)


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _targets(
    module: str, is_package: bool, node: ast.Import | ast.ImportFrom, modules: Container[str]
) -> Iterator[str]:
    """The dotted names an import statement loads: ``from P import x`` loads the
    submodule ``P.x`` when there is one, else the module ``P`` itself."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        anchor = anchor if is_package else anchor[:-1]
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join([*anchor, base]) if base else ".".join(anchor)
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in modules else base


def import_graph() -> dict[str, set[str]]:
    """Each fmc module and the fmc modules loading it loads directly."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own_packages = set(_ancestors(name))
        edges: set[str] = set()
        for node in _load_time_imports(tree.body):
            for target in _targets(name, path.name == "__init__.py", node, modules):
                if target not in modules:
                    continue  # a name imported from a module, or not fmc's
                edges.add(target)
                edges.update(p for p in _ancestors(target) if p not in own_packages)
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_fmc_has_no_import_cycles() -> None:
    """No fmc module imports, at load time, a module that imports it back."""
    assert [sorted(group) for group in cycles(import_graph())] == []


def test_the_finder_reports_a_circle() -> None:
    """Three modules importing one another in a ring are reported as one group."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]


def test_the_graph_skips_type_checking_and_function_imports() -> None:
    """Imports under TYPE_CHECKING or inside functions are not load-time edges."""
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "import fmc.errors\n"
        "if TYPE_CHECKING:\n"
        "    import fmc.models\n"
        "else:\n"
        "    import fmc.policy\n"
        "def f():\n"
        "    import fmc.store\n"
        "try:\n"
        "    import fmc.channel\n"
        "except ImportError:\n"
        "    import fmc.webhook\n"
    )
    loaded = {alias.name for node in _load_time_imports(tree.body) for alias in node.names}
    assert loaded == {"TYPE_CHECKING", "fmc.errors", "fmc.policy", "fmc.channel", "fmc.webhook"}


def test_a_submodule_import_loads_the_packages_above_it() -> None:
    """Importing fmc.webhook.events from another layer also loads fmc.webhook."""
    assert {"fmc.webhook", "fmc.webhook.events"} <= import_graph()["fmc.channel.registration"]
