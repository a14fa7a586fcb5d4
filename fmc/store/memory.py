"""An in-memory subscriber store, for tests and short-lived scripts."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

import attrs

from fmc._closing import Closing
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import NotificationToken, Subscriber, SubscriberStatus, TokenStatus
from fmc.store import _effects as rules
from fmc.store import _memory_effects as effects
from fmc.store._checks import check_page_size
from fmc.store._codec import (
    MergedEvent,
    merge_events,
    utc,
)
from fmc.store._journal_memory import MemoryJournal
from fmc.store._registry_memory import MemoryRegistry
from fmc.store.base import EventRecord
from fmc.store.delivery import DeliveryResult, DeliveryWrite
from fmc.store.memory_outbox import MemoryOutbox

__all__ = ["MemoryStore"]

_PURGE_EVERY = 1000


class MemoryStore(MemoryJournal, MemoryRegistry, Closing):
    """A :class:`~fmc.store.SubscriberStore` that keeps everything in this process.

    Thread-safe (one lock), nothing survives the process. Iteration follows
    the same keyset contract as the database stores: each page is looked up
    afresh, so writes during an iteration never break it.
    """

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.RLock()
        self._subscribers: dict[tuple[str, str], Subscriber] = {}
        self._psids: dict[str, list[str]] = {}
        self._status_at: dict[tuple[str, str], datetime] = {}
        self._token_at: dict[tuple[str, str, str], int] = {}
        self._dedup: dict[str, datetime] = {}
        self._dedup_calls = 0
        self._outbox = MemoryOutbox()
        self._init_journal(self._lock)

    def __repr__(self) -> str:
        return f"MemoryStore(subscribers={len(self._subscribers)})"

    # -- subscribers -----------------------------------------------------------------

    def _put(self, subscriber: Subscriber) -> None:
        key = (subscriber.page_id, subscriber.psid)
        if key not in self._subscribers:
            bisect.insort(self._psids.setdefault(subscriber.page_id, []), subscriber.psid)
        self._subscribers[key] = subscriber

    def _existing_or_new(self, page_id: str, psid: str) -> Subscriber:
        found = self._subscribers.get((page_id, psid))
        return found if found is not None else Subscriber(page_id, psid)

    def get(self, page_id: str, psid: str) -> Subscriber | None:
        """See :meth:`fmc.store.SubscriberStore.get`."""
        with self._lock:
            return self._subscribers.get((page_id, psid))

    def record_event(
        self, page_id: str, psid: str, *, at: datetime, interaction: bool, human_agent: bool = False
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.record_event`."""
        self.record_events([EventRecord(page_id, psid, at, interaction, human_agent)])

    def record_events(self, records: Iterable[EventRecord]) -> None:
        """See :meth:`fmc.store.SubscriberStore.record_events`."""
        merged = merge_events(records)
        with self._lock:
            for event in merged:
                self._apply(event)

    def _apply(self, event: MergedEvent) -> None:
        old = self._subscribers.get((event.page_id, event.psid))
        if old is None:
            self._put(
                Subscriber(
                    event.page_id,
                    event.psid,
                    first_seen_at=event.first_at,
                    last_interaction_at=event.interaction_at,
                    last_human_agent_at=event.human_agent_at,
                    ad_referral_at=event.ad_referral_at,
                )
            )
            return
        first = (
            event.first_at if old.first_seen_at is None else min(old.first_seen_at, event.first_at)
        )
        interaction = old.last_interaction_at
        if event.interaction_at is not None:
            interaction = max(filter(None, (interaction, event.interaction_at)))
        human = old.last_human_agent_at
        if event.human_agent_at is not None:
            human = max(filter(None, (human, event.human_agent_at)))
        ad = old.ad_referral_at
        if event.ad_referral_at is not None:
            ad = max(filter(None, (ad, event.ad_referral_at)))
        self._put(
            attrs.evolve(
                old,
                first_seen_at=first,
                last_interaction_at=interaction,
                last_human_agent_at=human,
                ad_referral_at=ad,
            )
        )

    def set_status(
        self,
        page_id: str,
        psid: str,
        status: SubscriberStatus,
        *,
        reason: str | None = None,
        at: datetime,
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.set_status`."""
        at = utc(at, "at")
        status = SubscriberStatus(status)
        with self._lock:
            old = self._existing_or_new(page_id, psid)
            first = old.first_seen_at if old.first_seen_at is not None else at
            self._put(attrs.evolve(old, status=status, status_reason=reason, first_seen_at=first))
            self._status_at[(page_id, psid)] = at

    def update_profile(
        self,
        page_id: str,
        psid: str,
        *,
        name: str | None = None,
        locale: str | None = None,
        timezone: float | None = None,
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.update_profile`."""
        with self._lock:
            old = self._existing_or_new(page_id, psid)
            self._put(
                attrs.evolve(
                    old,
                    name=old.name if name is None else name,
                    locale=old.locale if locale is None else locale,
                    timezone=old.timezone if timezone is None else timezone,
                )
            )

    def add_token(self, page_id: str, psid: str, token: NotificationToken) -> None:
        """See :meth:`fmc.store.SubscriberStore.add_token`."""
        token = attrs.evolve(
            token,
            expires_at=None if token.expires_at is None else utc(token.expires_at),
            created_at=None if token.created_at is None else utc(token.created_at),
        )
        with self._lock:
            old = self._existing_or_new(page_id, psid)
            kept = tuple(t for t in old.tokens if t.token != token.token)
            self._put(attrs.evolve(old, tokens=(*kept, token)))

    def set_token_status(self, page_id: str, psid: str, token: str, status: TokenStatus) -> bool:
        """See :meth:`fmc.store.SubscriberStore.set_token_status`."""
        status = TokenStatus(status)
        with self._lock:
            old = self._subscribers.get((page_id, psid))
            if old is None or all(t.token != token for t in old.tokens):
                return False
            tokens = tuple(
                attrs.evolve(t, status=status) if t.token == token else t for t in old.tokens
            )
            self._put(attrs.evolve(old, tokens=tokens))
            return True

    def count(self, page_id: str, *, status: SubscriberStatus | None = None) -> int:
        """See :meth:`fmc.store.SubscriberStore.count`."""
        with self._lock:
            psids = self._psids.get(page_id, [])
            if status is None:
                return len(psids)
            return sum(1 for p in psids if self._subscribers[(page_id, p)].status is status)

    def iter_subscribers(
        self,
        page_id: str,
        *,
        status: SubscriberStatus | None = None,
        after_psid: str | None = None,
        page_size: int = 500,
    ) -> Iterator[Subscriber]:
        """See :meth:`fmc.store.SubscriberStore.iter_subscribers`."""
        check_page_size(page_size)
        return self._iter_subscribers(page_id, status, after_psid, page_size)

    def _iter_subscribers(
        self, page_id: str, status: SubscriberStatus | None, after: str | None, page_size: int
    ) -> Iterator[Subscriber]:
        while True:
            page: list[Subscriber] = []
            with self._lock:
                psids = self._psids.get(page_id, [])
                start = 0 if after is None else bisect.bisect_right(psids, after)
                for psid in psids[start:]:
                    after = psid
                    subscriber = self._subscribers[(page_id, psid)]
                    if status is None or subscriber.status is status:
                        page.append(subscriber)
                        if len(page) == page_size:
                            break
            yield from page
            if len(page) < page_size:
                return

    # -- webhook durability ------------------------------------------------------------

    def apply_delivery(
        self, write: DeliveryWrite, *, timeout: float | None = None
    ) -> DeliveryResult:
        """See :meth:`fmc.store.SubscriberStore.apply_delivery` (``timeout`` is not needed)."""
        rules.check_write(write)
        now = utc(write.now, "now")
        cutoff = now - write.window
        with self._lock:
            self._count_dedup_call(cutoff)
            # Marked last, so a failure half-way leaves no mark behind.
            seen = {k for k in write.keys if k is not None and self._seen(k, cutoff)}
            fresh, new = effects.freshness(write.keys, seen)
            chosen = rules.fresh_effects(write, fresh)
            for event in rules.merged_records(chosen):
                self._apply(event)
            for change in rules.status_changes(chosen):
                effects.change_status(self._subscribers, self._put, self._status_at, change)
            for changes in rules.token_groups(chosen).values():
                for token_change in changes:
                    old = self._existing_or_new(token_change.page_id, token_change.psid)
                    effects.change_token(old, self._put, self._token_at, token_change)
            outbox_id = None
            if write.outbox is not None and rules.wants_outbox(write, fresh):
                outbox_id = self.outbox_put(write.outbox)
            for key in new:
                self._dedup[key] = now
        return DeliveryResult(fresh, outbox_id)

    def _count_dedup_call(self, cutoff: datetime) -> None:
        """Forget marks older than the window every so often (the lock is held)."""
        self._dedup_calls += 1
        if self._dedup_calls % _PURGE_EVERY == 0:
            self._dedup = {k: v for k, v in self._dedup.items() if v > cutoff}

    def _seen(self, key: str, cutoff: datetime) -> bool:
        seen = self._dedup.get(key)
        return seen is not None and seen > cutoff

    def dedup_check_and_mark(self, key: str, *, now: datetime, window: timedelta) -> bool:
        """See :meth:`fmc.store.SubscriberStore.dedup_check_and_mark`."""
        now = utc(now, "now")
        cutoff = now - window
        with self._lock:
            self._count_dedup_call(cutoff)
            seen = self._dedup.get(key)
            if seen is not None and seen > cutoff:
                return True
            self._dedup[key] = now
            return False

    # The outbox is the forwarder's own MemoryOutbox; the store's lock around
    # it keeps an item stored by apply_delivery invisible until that commits.

    def outbox_put(self, item: OutboxItem) -> int:
        """See :meth:`fmc.store.SubscriberStore.outbox_put`."""
        if item.next_attempt_at is not None:
            utc(item.next_attempt_at, "next_attempt_at")  # a naive time fails here, as on SQL
        with self._lock:
            return self._outbox.outbox_put(item)

    def outbox_due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """See :meth:`fmc.store.SubscriberStore.outbox_due`."""
        now = utc(now, "now")
        with self._lock:
            return self._outbox.outbox_due(now, limit)

    def outbox_ack(self, item_id: int) -> None:
        """See :meth:`fmc.store.SubscriberStore.outbox_ack`."""
        with self._lock:
            self._outbox.outbox_ack(item_id)

    def outbox_defer(
        self, item_id: int, *, next_attempt_at: datetime, attempts: int, last_error: str
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.outbox_defer`."""
        next_attempt_at = utc(next_attempt_at, "next_attempt_at")
        with self._lock:
            self._outbox.outbox_defer(
                item_id, next_attempt_at=next_attempt_at, attempts=attempts, last_error=last_error
            )

    def outbox_count(self) -> int:
        """See :meth:`fmc.store.SubscriberStore.outbox_count`."""
        with self._lock:
            return self._outbox.outbox_count()

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Nothing to release; kept for the protocol."""
