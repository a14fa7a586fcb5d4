"""Where a distributed broadcast stands, summed over its Pages and every worker's runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import attrs

from fmc.channel.control import DEFAULT_LEASE
from fmc.errors import ConfigurationError
from fmc.models.broadcast import JournalState

if TYPE_CHECKING:
    from fmc.store import SubscriberStore

__all__ = ["BroadcastStatus", "PageStatus", "broadcast_status"]


@attrs.frozen
class PageStatus:
    """One Page's part of a distributed broadcast.

    Attributes:
        page_id: The Page.
        subscribers: The Page's subscribers now.
        counts: Journal entries per state.
        live_runs: Runs of this part with a fresh heartbeat (workers sending now).
    """

    page_id: str
    subscribers: int
    counts: Mapping[JournalState, int]
    live_runs: int

    @property
    def settled(self) -> int:
        """Entries with an outcome (not claimed by a run)."""
        return sum(
            n
            for state, n in self.counts.items()
            if state not in (JournalState.PENDING, JournalState.SENDING)
        )


@attrs.frozen
class BroadcastStatus:
    """A distributed broadcast's progress, aggregated across Pages and workers.

    Attributes:
        broadcast_id: The broadcast.
        purpose: Its purpose.
        pages: One status per Page, ordered by Page id.
    """

    broadcast_id: str
    purpose: str
    pages: tuple[PageStatus, ...]

    def count(self, state: JournalState) -> int:
        """Entries in ``state`` over every Page."""
        return sum(page.counts.get(state, 0) for page in self.pages)

    @property
    def subscribers(self) -> int:
        """Subscribers of every Page."""
        return sum(page.subscribers for page in self.pages)

    @property
    def live_runs(self) -> int:
        """Runs sending now, over every Page."""
        return sum(page.live_runs for page in self.pages)

    def summary(self) -> str:
        """A few lines a person can read, as ``fmc broadcast status`` prints them."""
        states = [s for s in JournalState if self.count(s)]
        totals = ", ".join(f"{self.count(s)} {s.value}" for s in states) or "nothing yet"
        lines = [
            f"broadcast {self.broadcast_id} ({self.purpose}): {len(self.pages)} Pages, "
            f"{self.subscribers} subscribers, {self.live_runs} runs sending now",
            f"  all Pages: {totals}",
        ]
        for page in self.pages:
            per_state = ", ".join(f"{n} {s.value}" for s, n in page.counts.items() if n)
            lines.append(
                f"  Page {page.page_id}: {page.settled}/{page.subscribers} settled"
                + (f" ({per_state})" if per_state else "")
            )
        return "\n".join(lines)


def broadcast_status(
    store: SubscriberStore,
    broadcast_id: str,
    *,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> BroadcastStatus:
    """Read a distributed broadcast's progress from the journal.

    Raises:
        ConfigurationError: No such distributed broadcast.
    """
    parts = store.broadcast_parts(broadcast_id)
    if not parts:
        raise ConfigurationError(
            f"no distributed broadcast {broadcast_id!r}; check the id the enqueue printed"
        )
    when = now or datetime.now(timezone.utc)
    pages = tuple(
        PageStatus(
            part.page_id,
            store.count(part.page_id),
            store.journal_counts(part.broadcast_id),
            len(store.broadcast_live_runs(part.broadcast_id, now=when, lease=lease)),
        )
        for part in parts
    )
    return BroadcastStatus(broadcast_id, parts[0].purpose, pages)
