"""Sphinx configuration for fmc's documentation."""

from __future__ import annotations

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
