"""Sphinx configuration for fmc's documentation."""

from __future__ import annotations

from typing import Any

import fmc

project = "fmc"
author = "The fmc developers"
copyright = "2026, the fmc developers"
release = fmc.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
intersphinx_mapping: dict[str, tuple[str, None]] = {}
nitpicky = False
exclude_patterns = ["_build", "policy-table.rst"]
html_theme = "alabaster"
html_static_path = ["_static"]
suppress_warnings = ["ref.python"]


def _resolve_fmc_alias(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve ``fmc.Name`` references to where the name is documented.

    Docstrings say ``fmc.Client`` (the name users type); autodoc documents it
    at ``fmc.transport.client.Client`` or a layer package.
    """
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("fmc."):
        return None
    name, _, rest = target[len("fmc.") :].partition(".")
    module = fmc._EXPORTS.get(name)
    if module is None:
        return None
    resolved = f"{module}.{name}" + (f".{rest}" if rest else "")
    return env.domains["py"].resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], resolved, node, contnode
    )


def setup(app: Any) -> None:
    """Hook fmc's alias resolution into Sphinx."""
    app.connect("missing-reference", _resolve_fmc_alias)
