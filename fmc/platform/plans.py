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
    from fmc.models.subscriber import Subscriber
    from fmc.platform.platform import Platform
    from fmc.policy import MessagingPolicy, Purpose

__all__ = ["PagePlan", "PlatformBroadcastPlan", "RuleCount", "plan_page", "plan_pages"]


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

    def counts(self) -> str:
        """The totals in words: judged, would be sent, skipped."""
        return (
            f"{self.total} subscribers, {self.would_send} would be sent, "
            f"{self.total - self.would_send} skipped"
        )

    def rule_lines(self) -> list[str]:
        """One indented line per rule: send or skip, the count, the rule, an example reason."""
        return [
            f"  {'send' if r.allowed else 'skip'} {r.count:>6}  {r.rule}: e.g. {r.example}"
            for r in self.rules
        ]


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
            lines.append(f"Page {page_id}: {plan.counts()}")
            lines.extend(plan.rule_lines())
        for page_id, reason in sorted(self.not_sent.items()):
            lines.append(f"Page {page_id}: not sent ({reason})")
        lines.append(f"all Pages: {self.would_send} would be sent")
        return "\n".join(lines)


def plan_pages(
    platform: Platform, purpose: Purpose, *, pages: Iterable[str] | None, now: datetime
) -> PlatformBroadcastPlan:
    """Judge every subscriber of each chosen Page; see :meth:`Platform.plan_broadcast`."""
    records, not_sent = select_pages(platform, pages)
    plans = {
        record.id: plan_page(
            record.id,
            platform.store.iter_subscribers(record.id),
            platform.channel(record.id).policy,
            purpose,
            now,
        )
        for record in records
    }
    return PlatformBroadcastPlan(purpose, plans, not_sent)


def plan_page(
    page_id: str,
    subscribers: Iterable[Subscriber],
    policy: MessagingPolicy,
    purpose: Purpose,
    now: datetime,
) -> PagePlan:
    """Judge ``subscribers`` by ``policy`` and count the decisions per rule, sends first.

    What ``fmc broadcast --dry-run`` prints for one Page, and what
    :meth:`Platform.plan_broadcast <fmc.platform.Platform.plan_broadcast>`
    does for each Page. Streams: one subscriber in memory at a time.
    """
    counts: Counter[tuple[bool, str]] = Counter()
    examples: dict[tuple[bool, str], str] = {}
    for subscriber in subscribers:
        decision = policy.decide(subscriber, purpose, now)
        key = (decision.allowed, decision.rule)
        counts[key] += 1
        examples.setdefault(key, decision.reason)
    order = sorted(counts, key=lambda key: (not key[0], key[1]))
    return PagePlan(
        page_id, tuple(RuleCount(a, r, counts[(a, r)], examples[(a, r)]) for a, r in order)
    )
