"""Document fmc's public names where users import them from, and check that all are.

Each name in a layer's ``__all__`` is documented once, at its public path:
``fmc.Client`` for a name the top-level package re-exports, ``fmc.testing.Fault``
for one it does not. The ``fmc-api`` directive expands a list of names into
autodoc directives at those paths; a missing-reference handler sends
references to internal paths (``fmc.transport.client.Client``, which type hints
produce) to the public ones; and a consistency check warns about any public
name that no page documents, so ``-W`` fails the build.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import sys
from collections.abc import Iterator
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

import fmc

logger = logging.getLogger(__name__)

#: The packages whose ``__all__`` make up the public API, in the order a name
#: exported by two of them is documented in the first.
LAYERS = (
    "fmc.models",
    "fmc.errors",
    "fmc.convert",
    "fmc.transport",
    "fmc.webhook",
    "fmc.adapters.wsgi",
    "fmc.adapters.asgi",
    "fmc.policy",
    "fmc.store",
    "fmc.channel",
    "fmc.platform",
    "fmc.scale",
    "fmc.testing",
    "fmc.testing.pytest_plugin",
)


def public_path(layer: str, name: str, obj: Any) -> str:
    """The path a layer's public name is documented at.

    ``fmc.Name`` when the top-level package re-exports that very object (not
    another one of the same name, like the webhook's ``Attachment``), else
    ``layer.Name``.
    """
    if name in fmc.__all__ and getattr(fmc, name) is obj:
        return f"fmc.{name}"
    return f"{layer}.{name}"


def public_names() -> Iterator[tuple[str, str, Any]]:
    """Yield ``(layer, public path, object)`` for every public name."""
    for layer in LAYERS:
        module = importlib.import_module(layer)
        for name in module.__all__:
            obj = getattr(module, name)
            yield layer, public_path(layer, name, obj), obj


def _internal_path(obj: Any) -> str | None:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return None


def canonical_paths() -> dict[str, str]:
    """Map every path a public object is known by to the one it is documented at."""
    documented: dict[int, str] = {}
    aliases: dict[str, str] = {}
    for layer, path, obj in public_names():
        canonical = documented.setdefault(id(obj), path) if _is_unique(obj) else path
        aliases.setdefault(f"{layer}.{path.rsplit('.', 1)[1]}", canonical)
        aliases.setdefault(path, canonical)
        internal = _internal_path(obj)
        if internal is not None and _is_unique(obj):
            aliases.setdefault(internal, canonical)
    return {alias: target for alias, target in aliases.items() if alias != target}


def _is_unique(obj: Any) -> bool:
    # Classes and functions are one object wherever they are exported from;
    # constants such as strings or tuples may be equal without being "the same name".
    return inspect.isclass(obj) or inspect.isfunction(obj)


def _documented_once() -> dict[str, str]:
    """Public path -> the path that documents it (itself, or the first export)."""
    first: dict[int, str] = {}
    result: dict[str, str] = {}
    for _layer, path, obj in public_names():
        result[path] = first.setdefault(id(obj), path) if _is_unique(obj) else path
    return result


class FmcApiDirective(SphinxDirective):
    """``.. fmc-api::`` followed by names (one or more per line) of one layer.

    Option ``:module:`` names the layer (``fmc.webhook``); each name is
    documented at its public path with autodoc.
    """

    has_content = True
    option_spec = {"module": lambda text: text.strip()}

    def run(self) -> list[nodes.Node]:
        layer = self.options["module"]
        module = importlib.import_module(layer)
        lines = StringList()
        for name in " ".join(self.content).split():
            if name not in module.__all__:
                raise self.error(f"{name} is not in {layer}.__all__")
            obj = getattr(module, name)
            path = public_path(layer, name, obj)
            if inspect.isclass(obj):
                kind = "autoexception" if issubclass(obj, BaseException) else "autoclass"
            elif inspect.isfunction(obj):
                kind = "autofunction"
            else:
                raise self.error(f"{name} is data: document it with py:data, in words")
            source = self.get_source_info()[0]
            lines.append(f".. {kind}:: {path}", source)
            if inspect.isclass(obj) and obj.__bases__ != (object,):
                # "Bases: object" says nothing; a real base (the error tree) does.
                lines.append("   :show-inheritance:", source)
            lines.append("", source)
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(lines, self.content_offset, container)
        return list(container.children)


def _short_names() -> dict[str, str]:
    """Unqualified public name -> documented path, for names no two objects share."""
    seen: dict[str, set[str]] = {}
    for _layer, path, _obj in public_names():
        seen.setdefault(path.rsplit(".", 1)[1], set()).add(path)
    documented = _documented_once()
    return {
        name: documented[next(iter(paths))]
        for name, paths in seen.items()
        if len({documented[p] for p in paths}) == 1 and not hasattr(builtins, name)
    }


def _exists_in_fmc(target: str) -> bool:
    """Whether ``target`` names something in fmc's code (a private type, a TypeVar).

    The whole dotted path must exist, so a misspelt member of a real class
    (``Client.sendd``) is still reported.
    """
    for name, module in list(sys.modules.items()):
        if name != "fmc" and not name.startswith("fmc."):
            continue
        if target.startswith(name + "."):
            if _getattr_path(module, target[len(name) + 1 :]):
                return True
        elif not target.startswith("fmc.") and _getattr_path(module, target):
            return True
    return False


def _getattr_path(obj: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def _resolve_public(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a reference to a public object by any path it is known by.

    A reference to something that exists in fmc but is not public (a private
    type alias in a signature, a TypeVar) becomes plain text; a reference to
    nothing at all is left for Sphinx to report.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    aliases: dict[str, str] = app.env.fmc_aliases  # type: ignore[attr-defined]
    head, rest = target, ""
    while head:
        if head in aliases:
            resolved = env.domains["py"].resolve_xref(
                env,
                node["refdoc"],
                app.builder,
                node["reftype"],
                aliases[head] + rest,
                node,
                contnode,
            )
            if resolved is not None:
                return resolved
            break
        head, dot, last = head.rpartition(".")
        rest = f".{last}{rest}" if dot else rest
    if _exists_in_fmc(target):
        return contnode
    return None


def _unlink_builtins(app: Sphinx, doctree: nodes.document) -> None:
    # ``type[Event]`` would match every attribute called ``type``; builtins
    # have no inventory offline, so they are shown as text.
    for ref in list(doctree.findall(addnodes.pending_xref)):
        if ref.get("refdomain") == "py" and hasattr(builtins, ref.get("reftarget", "")):
            # With unqualified type names the text sits in the "*" condition.
            shown = [
                child
                for child in ref.children
                if isinstance(child, addnodes.pending_xref_condition)
                and child.get("condition") == "*"
            ]
            ref.replace_self(shown[0].children if shown else ref.children)


def _check_all_documented(app: Sphinx, env: Any) -> None:
    objects = env.domains["py"].objects
    for path, documented_at in _documented_once().items():
        if documented_at not in objects:
            logger.warning("public name %s is not documented in the API reference", path)


def _builder_inited(app: Sphinx) -> None:
    aliases = {**_short_names(), **canonical_paths()}
    app.env.fmc_aliases = aliases  # type: ignore[attr-defined]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive, the reference resolver and the completeness check."""
    app.add_directive("fmc-api", FmcApiDirective)
    app.connect("builder-inited", _builder_inited)
    app.connect("missing-reference", _resolve_public)
    app.connect("doctree-read", _unlink_builtins)
    app.connect("env-check-consistency", _check_all_documented)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
