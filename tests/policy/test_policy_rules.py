"""The decision table's own consistency, and the docs rendered from it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from fmc.models.send import MessagingType
from fmc.policy import RULES, MessagingPolicy, Purpose, Rule, Window, render_table_rst, rules_for

DOC = Path(__file__).resolve().parents[2] / "docs" / "policy-table.rst"


@pytest.mark.parametrize("purpose", list(Purpose), ids=lambda purpose: purpose.value)
def test_every_purpose_ends_with_an_unconditional_row(purpose: Purpose) -> None:
    """The last row of each purpose applies always, and only the last, so no row is dead."""
    rows = rules_for(purpose)
    assert rows[-1].unconditional
    assert not any(row.unconditional for row in rows[:-1])


@pytest.mark.parametrize("purpose", list(Purpose), ids=lambda purpose: purpose.value)
def test_every_purpose_starts_inside_the_window_with_the_psid(purpose: Purpose) -> None:
    """Inside the window every purpose is allowed to the PSID, before any other route."""
    first = rules_for(purpose)[0]
    assert (first.window, first.allowed, first.token, first.requires) == (
        Window.INSIDE,
        True,
        None,
        (),
    )


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.purpose.value}-{rule.code}")
def test_rows_are_consistent(rule: Rule) -> None:
    """Allowed rows have a type (and a tag exactly with MESSAGE_TAG); refusals have neither.

    A refusal may still have a token condition (a person who opted in to
    marketing messages is refused with different advice).
    """
    assert re.fullmatch(r"[a-z_]+", rule.code)
    if rule.allowed:
        assert rule.messaging_type is not None
        assert (rule.messaging_type is MessagingType.MESSAGE_TAG) == (rule.tag is not None)
    else:
        assert (rule.messaging_type, rule.tag) == (None, None)


def test_the_committed_docs_table_is_the_rendered_one() -> None:
    """docs/policy-table.rst is exactly what render_table_rst() produces.

    Regenerate it with:
    python -c "import fmc.policy as p; print(p.render_table_rst(), end='')" > docs/policy-table.rst
    """
    assert DOC.read_text(encoding="utf-8") == render_table_rst()


def test_the_rendering_has_a_row_per_rule() -> None:
    """The list-table has the header and one row per rule."""
    assert render_table_rst().count("\n   * - ") == len(RULES) + 1


def test_the_rendering_shows_the_policy_windows() -> None:
    """A policy with other windows renders its own bounds."""
    policy = MessagingPolicy(
        {"pages_messaging"}, window=timedelta(hours=12), human_agent_window=timedelta(days=3)
    )
    text = render_table_rst(policy)
    assert "     - 12 h – 3 days\n" in text
    assert "     - ≥ 3 days or none\n" in text
    assert "24 h" not in text
