"""The small protocols a store is made of, one per concern.

:class:`~fmc.store.SubscriberStore` is their composition, and fmc's three
stores implement all of it; a layer that needs one concern can ask for its
protocol only:

* :class:`SubscriberDirectory`: the people who wrote to a Page (the channel's
  registration, the policy's view, the broadcast's audience);
* :class:`DedupStore`: webhook redeliveries, so each event is handled once
  (:class:`fmc.webhook.WebhookHandler`);
* :class:`DeliveryStore`: one webhook delivery's effects, committed at once;
* :class:`OutboxStore`: deliveries waiting to be forwarded
  (:class:`fmc.webhook.Forwarder`);
* :class:`JournalStore`: broadcast journals, so a broadcast resumes without
  sending anyone anything twice.

:class:`~fmc.store.registry.RegistryStore` (apps and Pages of
:mod:`fmc.platform`) is the sixth, beside them. Every method takes and
returns models, never database rows; every datetime is timezone-aware, and
stores return UTC.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from fmc.models.broadcast import JournalEntry, JournalState
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import NotificationToken, Subscriber, SubscriberStatus, TokenStatus

if TYPE_CHECKING:
    from fmc.store.base import BroadcastInfo, EventRecord
    from fmc.store.delivery import DeliveryResult, DeliveryWrite

__all__ = [
    "BroadcastRecorder",
    "DedupStore",
    "DeliveryStore",
    "JournalStore",
    "OutboxStore",
    "SubscriberDirectory",
]


@runtime_checkable
class SubscriberDirectory(Protocol):
    """The subscribers of Pages, upserted by ``(page_id, psid)`` and streamed in keyset pages.

    A subscriber never loses an earlier first-seen time.
    """

    def get(self, page_id: str, psid: str) -> Subscriber | None:
        """Return the subscriber, or ``None`` if the Page never heard from this PSID."""
        ...

    def record_event(
        self, page_id: str, psid: str, *, at: datetime, interaction: bool, human_agent: bool = False
    ) -> None:
        """Register an event from a person (upsert).

        A new person becomes an ACTIVE subscriber first seen at ``at``. For a
        known one, ``first_seen_at`` only ever moves earlier; ``interaction``
        moves ``last_interaction_at`` to ``at`` if later, ``human_agent`` does
        the same for ``last_human_agent_at``. The status never changes.
        """
        ...

    def record_events(self, records: Iterable[EventRecord]) -> None:
        """Apply :meth:`record_event` to many events in one transaction."""
        ...

    def set_status(
        self,
        page_id: str,
        psid: str,
        status: SubscriberStatus,
        *,
        reason: str | None = None,
        at: datetime,
    ) -> None:
        """Set a subscriber's status and its reason, creating the subscriber if missing.

        An explicit decision of the caller: it applies whatever the time of the
        last status change, and ``at`` becomes that time (see *newer wins* in
        :meth:`DeliveryStore.apply_delivery`).
        """
        ...

    def update_profile(
        self,
        page_id: str,
        psid: str,
        *,
        name: str | None = None,
        locale: str | None = None,
        timezone: float | None = None,
    ) -> None:
        """Store profile fields; ``None`` leaves a field as it is.

        A subscriber not known yet is created (ACTIVE, no first-seen time).
        """
        ...

    def add_token(self, page_id: str, psid: str, token: NotificationToken) -> None:
        """Keep a notification token, replacing one with the same token string."""
        ...

    def set_token_status(self, page_id: str, psid: str, token: str, status: TokenStatus) -> bool:
        """Change a token's status.

        Returns:
            ``False`` if the subscriber has no such token.
        """
        ...

    def count(self, page_id: str, *, status: SubscriberStatus | None = None) -> int:
        """Count a Page's subscribers, optionally only those with ``status``."""
        ...

    def iter_subscribers(
        self,
        page_id: str,
        *,
        status: SubscriberStatus | None = None,
        after_psid: str | None = None,
        page_size: int = 500,
    ) -> Iterator[Subscriber]:
        """Stream a Page's subscribers in PSID order (code point order).

        Each page of ``page_size`` is one short query keyed on the last PSID
        seen (keyset pagination), so at most one page is in memory and no read
        transaction stays open while the caller works on what was yielded.
        Subscribers written during the iteration may or may not be seen.

        Args:
            page_id: The Page.
            status: Only subscribers with this status.
            after_psid: Start after this PSID (to resume an iteration).
            page_size: How many subscribers one query fetches.
        """
        ...


@runtime_checkable
class DedupStore(Protocol):
    """Remembers which webhook event keys were already handled."""

    def dedup_check_and_mark(self, key: str, *, now: datetime, window: timedelta) -> bool:
        """Check an event's key and mark it seen at ``now``, atomically.

        Args:
            key: The event's dedup key.
            now: The current time (aware).
            window: How long a mark counts.

        Returns:
            ``True`` if the key was already marked within ``window`` before
            ``now`` (a duplicate); otherwise it is marked and ``False``.
        """
        ...


@runtime_checkable
class DeliveryStore(Protocol):
    """Commits what one webhook delivery changes, all or nothing."""

    def apply_delivery(
        self, write: DeliveryWrite, *, timeout: float | None = None
    ) -> DeliveryResult:
        """Commit what one webhook delivery changes, all or nothing, in one transaction.

        Checks and marks each event's dedup key; applies the effects of the
        new events only (records, then status changes, then token changes,
        each *newer wins*: a change older than the last applied one for that
        subscriber's status, or for that token, is skipped); stores the outbox
        item if any event is new or the delivery has none.

        Args:
            write: The delivery's keys, effects and outbox item.
            timeout: Seconds the commit may take at most, waiting for locks,
                connections and the database included; ``None``: the store's
                own limits.

        Returns:
            Which events were new, and the outbox item's id.

        Raises:
            StoreError: nothing was committed (the database is unavailable,
                locked past ``timeout``, or refused the write).
        """
        ...


@runtime_checkable
class OutboxStore(Protocol):
    """Keeps deliveries that could not be forwarded yet.

    Deliveries survive a restart and leave in order per sender: items with
    the same ``order_key`` leave in the order they arrived.
    """

    def outbox_put(self, item: OutboxItem) -> int:
        """Keep a delivery to forward; returns its id (ids grow in put order)."""
        ...

    def outbox_due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Return up to ``limit`` items to try now, oldest first.

        Only the oldest undelivered item of each ``order_key`` can be due, and
        only once its ``next_attempt_at`` (if any) is not after ``now``; so
        deliveries of one sender leave in order.
        """
        ...

    def outbox_ack(self, item_id: int) -> None:
        """Forget a delivered item (an unknown id is ignored)."""
        ...

    def outbox_defer(
        self, item_id: int, *, next_attempt_at: datetime, attempts: int, last_error: str
    ) -> None:
        """Record a failed attempt and when to try again (an unknown id is ignored)."""
        ...

    def outbox_count(self) -> int:
        """How many items wait in the outbox."""
        ...


class BroadcastRecorder(Protocol):
    """Records a broadcast: a store, or a journal inside an open transaction.

    Enough for :func:`fmc.scale.begin_distributed`, which records a
    distributed broadcast in the transaction that enqueues its shard jobs.
    """

    def broadcast_begin(
        self,
        broadcast_id: str,
        *,
        page_id: str,
        purpose: str,
        message: str,
        created_at: datetime,
        fingerprint: str | None = None,
    ) -> BroadcastInfo:
        """Record a broadcast, or return the existing record if the id is known."""
        ...


@runtime_checkable
class JournalStore(BroadcastRecorder, Protocol):
    """Broadcast journals: the intent to send before each send, its outcome after.

    The journal is a monotonic state machine (``fmc.JournalState``): every
    transition is a compare-and-set, SENT and FAILED are final, and the
    PENDING and SENDING entries belong to the run that claimed them. A run
    registers itself and keeps a heartbeat; entries of a run whose heartbeat
    stopped are recovered by :meth:`journal_recover`, never those of a live run.
    """

    def broadcast_get(self, broadcast_id: str) -> BroadcastInfo | None:
        """Return a broadcast's record, or ``None``."""
        ...

    def broadcast_find(
        self, page_id: str, fingerprint: str, *, since: datetime
    ) -> BroadcastInfo | None:
        """The Page's newest broadcast with this fingerprint, created at or after ``since``."""
        ...

    def broadcast_parts(self, broadcast_id: str) -> list[BroadcastInfo]:
        """The parts of a distributed broadcast: those whose id is ``broadcast_id + "." + …``.

        Ordered by id. A distributed broadcast (:mod:`fmc.scale`) journals each
        Page under such a part id.
        """
        ...

    def broadcast_run_start(self, broadcast_id: str, run_id: str, *, at: datetime) -> None:
        """Register a run of a broadcast, alive as of ``at``."""
        ...

    def broadcast_run_beat(self, run_id: str, *, at: datetime) -> bool:
        """Renew a run's heartbeat.

        Returns:
            ``False`` if the run is unknown or has ended.
        """
        ...

    def broadcast_run_end(self, run_id: str, *, at: datetime) -> int:
        """End a run: release its PENDING entries (never handed to HTTP) and mark it ended.

        Returns:
            How many entries were released.
        """
        ...

    def broadcast_live_runs(
        self, broadcast_id: str, *, now: datetime, lease: timedelta
    ) -> list[str]:
        """The ids of the broadcast's runs that have not ended and beat within ``lease``."""
        ...

    def journal_recover(
        self, broadcast_id: str, *, now: datetime, lease: timedelta
    ) -> tuple[int, int]:
        """Recover the entries of runs that are not alive, in one transaction.

        A run is alive when it has not ended and its heartbeat is within
        ``lease`` of ``now``. A dead run's PENDING entries were never handed to
        the HTTP layer: they are released (deleted), so the next claim sends
        them. Its SENDING entries may have reached Meta: they become
        AMBIGUOUS. PENDING entries with no run (journals written before runs
        existed) count as SENDING did.

        Returns:
            ``(released, ambiguous)``: how many entries moved each way.
        """
        ...

    def journal_claim(
        self, broadcast_id: str, psids: Sequence[str], *, at: datetime, run_id: str | None = None
    ) -> list[str]:
        """Journal the intent to send, atomically: claim PSIDs that have no entry yet.

        Inserts a PENDING entry owned by ``run_id`` for every PSID without one
        and returns exactly those, in input order. Two runs (threads or
        processes) claiming the same PSIDs get disjoint results, so several
        workers can share one broadcast: the claim is an ``INSERT ... ON
        CONFLICT DO NOTHING`` on the journal's primary key.
        """
        ...

    def journal_states(self, broadcast_id: str, psids: Sequence[str]) -> dict[str, JournalState]:
        """Return the state of each of ``psids`` that has a journal entry."""
        ...

    def journal_reclaim(
        self,
        broadcast_id: str,
        psids: Sequence[str],
        *,
        from_states: Collection[JournalState],
        at: datetime,
        run_id: str | None = None,
    ) -> list[str]:
        """Move entries in ``from_states`` back to PENDING, owned by ``run_id``, atomically.

        Only RETRYABLE, SKIPPED and AMBIGUOUS entries can be reclaimed; a final
        or claimed state in ``from_states`` is a :class:`ValueError`.

        Returns:
            The PSIDs moved, in input order; an entry another run moved first
            is not returned.
        """
        ...

    def journal_handoff(
        self, broadcast_id: str, psids: Sequence[str], *, run_id: str, at: datetime
    ) -> list[str]:
        """Move the run's own PENDING entries to SENDING, just before their HTTP request.

        Returns:
            The PSIDs moved, in input order. A PSID not returned is no longer
            the run's to send (its claim was recovered after the run was
            presumed dead) and must not be sent.
        """
        ...

    def journal_settle(self, run_id: str, entries: Sequence[JournalEntry]) -> int:
        """Record the outcomes of a run's sends, each as a compare-and-set.

        SENT and FAILED (what Meta answered) replace any state that is not
        final; RETRYABLE and AMBIGUOUS replace only the run's own PENDING or
        SENDING claim. Other states are a :class:`ValueError`.

        Returns:
            How many entries changed.
        """
        ...

    def journal_release(self, broadcast_id: str, psids: Sequence[str], *, run_id: str) -> int:
        """Delete the run's own PENDING entries (claimed, never handed to HTTP).

        Returns:
            How many entries were released.
        """
        ...

    def journal_record(self, entries: Sequence[JournalEntry]) -> None:
        """Upsert entries that no run owns, in one transaction.

        A final entry (SENT, FAILED) and an entry a run has claimed are left as
        they are; anything else takes the new state, message id, detail and
        time. The broadcast engine writes policy refusals (SKIPPED) this way.
        """
        ...

    def journal_entries(
        self,
        broadcast_id: str,
        *,
        states: Collection[JournalState] | None = None,
        page_size: int = 500,
    ) -> Iterator[JournalEntry]:
        """Stream a broadcast's entries in PSID order, optionally only some states."""
        ...

    def journal_counts(self, broadcast_id: str) -> dict[JournalState, int]:
        """Count a broadcast's entries per state; every state is a key, zero if absent."""
        ...
