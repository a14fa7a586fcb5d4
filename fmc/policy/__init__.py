"""The messaging policy: which messages Meta allows, to whom, when, and how.

:class:`MessagingPolicy` decides from the Page's permissions, the subscriber's
status, last interaction and notification tokens, and the purpose of the
message; the rules are the rows of :data:`RULES`, which the docs render with
:func:`render_table_rst`.
"""

from __future__ import annotations

from fmc.policy.decision import Decision
from fmc.policy.policy import MessagingPolicy, format_duration, topic_matches
from fmc.policy.purpose import Permission, Purpose
from fmc.policy.render import render_table_rst
from fmc.policy.table import RULES, Route, Rule, RuleStatus, Window, rules_for

__all__ = [
    "RULES",
    "Decision",
    "MessagingPolicy",
    "Permission",
    "Purpose",
    "Route",
    "Rule",
    "RuleStatus",
    "Window",
    "format_duration",
    "render_table_rst",
    "rules_for",
    "topic_matches",
]
