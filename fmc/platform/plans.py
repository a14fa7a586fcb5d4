"""A dry run of a broadcast across Pages: what each Page's policy would do, nothing sent.

:meth:`Platform.plan_broadcast <fmc.platform.Platform.plan_broadcast>` picks
the Pages as :meth:`Platform.broadcast <fmc.platform.Platform.broadcast>` does
and judges every subscriber of each with that Page's own policy. It sends
nothing, writes no journal and calls no Graph API: the Pages a real run would
skip (token invalid, disconnected, not registered) are listed with why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from fmc.platform.broadcasts import select_pages

if TYPE_CHECKING:
    from fmc.platform.platform import Platform
    from fmc.policy import Purpose

__all__ = ["PagePlan", "PlatformBroadcastPlan", "RuleCount", "plan_pages"]


@attrs.frozen
class RuleCount:
    """How many subscribers one policy rule would send to, or skip.

    Attributes:
        allowed: Whether the rule lets the message go.
        rule: The policy's rule name.
        count: How many subscribers it decided.
        example: One of its reasons, as the policy words it.
    """

    allowed: bool
    rule: str
    count: int
    example: str


@attrs.frozen
class PagePlan:
    """What one Page's broadcast would do.

    Attributes:
        page_id: The Page.
        rules: The counts per rule, sends first.
    """

    page_id: str
    rules: tuple[RuleCount, ...]

    @property
    def total(self) -> int:
        """Subscribers judged."""
        return sum(r.count for r in self.rules)

    @property
    def would_send(self) -> int:
        """Subscribers the policy would send to."""
        return sum(r.count for r in self.rules if r.allowed)


@attrs.frozen
class PlatformBroadcastPlan:
    """What a broadcast across Pages would do; nothing was sent or journaled.

    Attributes:
        purpose: The purpose judged.
        plans: Each Page's plan, by Page id.
        not_sent: Pages a real run would not broadcast to, with the reason.
    """

    purpose: Purpose
    plans: Mapping[str, PagePlan]
    not_sent: Mapping[str, str]

    @property
    def would_send(self) -> int:
        """Messages a real run would send, over every Page."""
        return sum(p.would_send for p in self.plans.values())

    def summary(self) -> str:
        """Per Page its counts and rules, then the totals (no token, no secret)."""
        lines = [f"dry run ({self.purpose.value}, nothing sent, nothing journaled):"]
        for page_id, plan in sorted(self.plans.items()):
            lines.append(
                f"Page {page_id}: {plan.total} subscribers, {plan.would_send} would be sent, "
                f"{plan.total - plan.would_send} skipped"
            )
            for rule in plan.rules:
                verb = "send" if rule.allowed else "skip"
                lines.append(f"  {verb} {rule.count:>6}  {rule.rule}: e.g. {rule.example}")
        for page_id, reason in sorted(self.not_sent.items()):
            lines.append(f"Page {page_id}: not sent ({reason})")
        lines.append(f"all Pages: {self.would_send} would be sent")
        return "\n".join(lines)


def plan_pages(
    platform: Platform, purpose: Purpose, *, pages: Iterable[str] | None, now: datetime
) -> PlatformBroadcastPlan:
    """Judge every subscriber of each chosen Page; see :meth:`Platform.plan_broadcast`."""
    records, not_sent = select_pages(platform, pages)
    plans: dict[str, PagePlan] = {}
    for record in records:
        policy = platform.channel(record.id).policy
        counts: Counter[tuple[bool, str]] = Counter()
        examples: dict[tuple[bool, str], str] = {}
        for subscriber in platform.store.iter_subscribers(record.id):
            decision = policy.decide(subscriber, purpose, now)
            key = (decision.allowed, decision.rule)
            counts[key] += 1
            examples.setdefault(key, decision.reason)
        order = sorted(counts, key=lambda key: (not key[0], key[1]))
        rules = tuple(RuleCount(a, r, counts[(a, r)], examples[(a, r)]) for a, r in order)
        plans[record.id] = PagePlan(record.id, rules)
    return PlatformBroadcastPlan(purpose, plans, not_sent)
