"""Sphinx configuration for fmc's documentation."""

from __future__ import annotations

import sys
from pathlib import Path

import fmc

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "fmc"
author = "The fmc developers"
copyright = "2026, the fmc developers"
release = fmc.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.graphviz",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
    "fmc_api",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
python_use_unqualified_type_names = True
autodoc_default_options = {"members": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
exclude_patterns = ["_build", "policy-table.rst"]

# Every cross-reference must resolve (the build runs with -W). No inventory of
# the standard library or of requests is available offline, so references to
# their types are left unlinked on purpose rather than guessed.
nitpicky = True
nitpick_ignore_regex = [
    (
        "py:.*",
        r"(builtins|collections|collections\.abc|typing|datetime|enum|logging|threading"
        r"|concurrent\.futures|pathlib|os|io|email|http|socket|sqlite3|contextlib|types"
        r"|asyncio|ssl|queue|re|json|decimal|ipaddress|urllib\.parse|wsgiref)(\..*)?",
    ),
    (
        "py:.*",
        r"(requests|requests_mock|psycopg|psycopg_pool|attrs|attr|cattrs|tenacity"
        r"|pytest|_pytest|starlette|aiohttp|cryptography|procrastinate|celery)(\..*)?",
    ),
    (
        "py:.*",
        r"(str|int|float|bool|bytes|object|None|type|tuple|list|dict|set|frozenset"
        r"|Exception|ValueError|TypeError|KeyError|OSError|RuntimeError|BaseException"
        r"|TimeoutError|ConnectionError|Any|Callable|Iterable|Iterator|Mapping|Sequence"
        r"|Collection|datetime|timedelta|timezone|Path|Logger|Enum|IntEnum)",
    ),
]

html_theme = "furo"
html_title = f"fmc {release}"
html_static_path = ["_static"]
html_css_files = ["fmc.css"]
graphviz_output_format = "svg"
copybutton_prompt_text = r"\$ |>>> |\.\.\. "
copybutton_prompt_is_regexp = True
