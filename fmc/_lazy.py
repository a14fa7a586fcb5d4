"""Lazy exports (PEP 562) for fmc's packages, derived from one table each.

A package that loads its public names on first use (``fmc.channel``,
``fmc.testing``, ``fmc.transport``, ``fmc.webhook``) keeps a table
``_EXPORTS`` (name -> defining module) and binds the ``__getattr__`` and
``__dir__`` that :func:`lazy_exports` makes from it, so that all of them
resolve, cache, list and refuse names alike. Type checkers cannot read the
table, so each package repeats it as ``TYPE_CHECKING`` imports, and
``tests/test_exports.py`` checks that the two agree.

The ``fmc`` facade keeps its own few lines instead: a bare ``import fmc``
must import no ``fmc.*`` module at all.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    namespace: dict[str, Any],
    exports: Mapping[str, str],
    renamed: Mapping[str, tuple[str, str]] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package that loads its names on first use.

    Args:
        namespace: The package's ``globals()``; a loaded name is cached there,
            so the next access does not come back to ``__getattr__``.
        exports: Each public name and the module that defines it.
        renamed: Former names that still resolve, each to
            ``(new name, deprecation message)``; using one warns.

    Returns:
        ``(__getattr__, __dir__)``, to bind at the package's top level.
    """
    package = namespace["__name__"]
    former = dict(renamed or {})

    def load(name: str) -> Any:
        module = exports.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
            namespace[name] = value
            return value
        if name in former:
            new, message = former[name]
            warnings.warn(message, DeprecationWarning, stacklevel=2)
            return load(new)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def listing() -> list[str]:
        return sorted({*namespace, *exports})

    return load, listing
