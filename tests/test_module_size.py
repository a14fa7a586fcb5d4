"""No module in the fmc package is longer than the contributor guide allows.

``docs/contributing.rst``: a module over 450 lines holds two concepts; split it
by concern. This keeps the rule from being broken without anyone noticing.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fmc"
MOST_LINES = 450


def test_no_module_is_over_450_lines() -> None:
    """Every ``.py`` file under ``fmc/`` has at most 450 lines."""
    long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
    }
    assert long == {}, f"split these by concern (lines over {MOST_LINES}): {long}"
