"""Broadcasts across Pages: one journaled :meth:`fmc.Channel.broadcast` per Page, one report.

Each Page's broadcast is the single-Page one (journaled, resumable, paused on
a dead token), under that Page's own policy and rate limit. A Page whose
broadcast paused on a dead token (code 190) is marked ``token_invalid``;
reconnecting it with a fresh token and running the same broadcast again (same
``idempotency_key``) resumes it without sending anyone anything twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from fmc.channel import BroadcastReport
from fmc.platform.records import PageRecord, PageStatus

if TYPE_CHECKING:
    from fmc.models import Message
    from fmc.platform.platform import Platform
    from fmc.policy import Purpose

__all__ = ["PlatformBroadcastReport", "broadcast_pages", "select_pages"]

# A pause whose reason carries Graph's code 190 (a dead token), as the
# channel's stop reasons write it: "... (190/463)" or "... (190)".
_DEAD_TOKEN = re.compile(r"\(190[/)]")


@attrs.frozen
class PlatformBroadcastReport:
    """What a broadcast across Pages did.

    Attributes:
        reports: Each Page's own report, by Page id.
        not_sent: Pages not broadcast to, with the reason (disconnected,
            token invalid, not registered).
    """

    reports: Mapping[str, BroadcastReport]
    not_sent: Mapping[str, str]

    @property
    def sent(self) -> int:
        """Messages sent, over every Page."""
        return sum(r.sent for r in self.reports.values())

    @property
    def paused(self) -> dict[str, str]:
        """The Pages whose broadcast paused, with why."""
        return {p: r.paused for p, r in self.reports.items() if r.paused is not None}

    def summary(self) -> str:
        """One line per Page, then the totals (no token, no secret)."""
        lines = []
        for page_id, report in sorted(self.reports.items()):
            state = f"paused: {report.paused}" if report.paused else "done"
            lines.append(
                f"Page {page_id}: sent {report.sent}, skipped {sum(report.skipped.values())}, "
                f"failed {sum(report.failed.values())} ({state})"
            )
        for page_id, reason in sorted(self.not_sent.items()):
            lines.append(f"Page {page_id}: not sent ({reason})")
        lines.append(f"all Pages: sent {self.sent}, {len(self.paused)} paused")
        return "\n".join(lines)


def select_pages(
    platform: Platform, pages: Iterable[str] | None
) -> tuple[list[PageRecord], dict[str, str]]:
    """The active Pages to broadcast to, and those not sent to with why.

    Args:
        platform: The platform.
        pages: Page ids (duplicates dropped), or ``None`` for every Page not
            disconnected.
    """
    wanted = (
        [p.id for p in platform.registry.pages() if p.status is not PageStatus.DISCONNECTED]
        if pages is None
        else list(dict.fromkeys(pages))
    )
    active: list[PageRecord] = []
    not_sent: dict[str, str] = {}
    for page_id in wanted:
        record = platform.registry.page(page_id)
        if record is None:
            not_sent[page_id] = "not registered"
        elif record.status is not PageStatus.ACTIVE:
            not_sent[page_id] = record.status.value + (
                f": {record.status_reason}" if record.status_reason else ""
            )
        else:
            active.append(record)
    return active, not_sent


def broadcast_pages(
    platform: Platform,
    message: Message,
    purpose: Purpose,
    *,
    pages: Iterable[str] | None,
    idempotency_key: str | None,
    options: Mapping[str, Any],
) -> PlatformBroadcastReport:
    """Run one broadcast per Page in turn; see :meth:`Platform.broadcast`."""
    records, not_sent = select_pages(platform, pages)
    reports: dict[str, BroadcastReport] = {}
    for record in records:
        page_id = record.id
        key = None if idempotency_key is None else f"{idempotency_key}:{page_id}"
        report = platform.channel(page_id).broadcast(
            message, purpose, idempotency_key=key, **options
        )
        reports[page_id] = report
        if report.paused is not None and _DEAD_TOKEN.search(report.paused):
            platform.registry.set_status(
                page_id, PageStatus.TOKEN_INVALID, reason=f"broadcast paused: {report.paused}"
            )
    return PlatformBroadcastReport(reports, not_sent)
