"""The installed package: its public names, its type marker and its version."""

from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

import fmc

PUBLIC_PACKAGES = [
    "fmc",
    "fmc.errors",
    "fmc.convert",
    "fmc.models",
    "fmc.transport",
    "fmc.webhook",
    "fmc.policy",
    "fmc.store",
    "fmc.channel",
    "fmc.platform",
    "fmc.cli",
    "fmc.testing",
]


@pytest.mark.parametrize("name", PUBLIC_PACKAGES)
def test_every_exported_name_imports(name: str) -> None:
    """Every name in each public package's __all__ resolves."""
    module = importlib.import_module(name)
    missing = [item for item in module.__all__ if not hasattr(module, item)]
    assert missing == []


def test_every_exported_name_has_a_docstring() -> None:
    """Every public class and function of fmc has a docstring."""
    undocumented = [
        name
        for name in fmc.__all__
        if name != "__version__"
        and callable(getattr(fmc, name))
        and not (getattr(fmc, name).__doc__ or "").strip()
    ]
    assert undocumented == []


def test_py_typed_is_shipped() -> None:
    """The PEP 561 marker sits beside the package."""
    assert (Path(fmc.__file__).parent / "py.typed").is_file()


def test_version_matches_the_distribution() -> None:
    """fmc.__version__ is the installed distribution's version."""
    assert importlib.metadata.version("fmc-messenger") == fmc.__version__


def test_import_fmc_loads_no_layer() -> None:
    """A bare ``import fmc`` imports none of the layers until a name is used."""
    code = "import sys, fmc; print(sorted(m for m in sys.modules if m.startswith('fmc.')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_distribution_installs_the_fmc_command() -> None:
    """fmc-messenger (the free index name) installs the ``fmc`` command."""
    distribution = importlib.metadata.distribution("fmc-messenger")
    scripts = {
        ep.name: ep.value for ep in distribution.entry_points if ep.group == "console_scripts"
    }
    assert scripts == {"fmc": "fmc.cli:main"}
