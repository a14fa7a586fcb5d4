"""The subscriber store protocol every backend implements, and its small value types.

A store keeps, for a Channel, what each protocol of :mod:`fmc.store.protocols`
describes:

* **subscribers**, upserted by ``(page_id, psid)`` from webhook events, never
  losing an earlier first-seen time, and streamed back in keyset pages;
* **webhook dedup keys**, so a redelivered event is handled once;
* **the forwarding outbox**, so deliveries that could not be forwarded yet
  survive a restart and leave in order per sender;
* **broadcast journals**, which record the intent to send before each send and
  its outcome after, so a broadcast resumes without sending anyone anything
  twice.

:class:`SubscriberStore` is their composition. Every method takes and returns
models (:class:`~fmc.models.subscriber.Subscriber`,
:class:`~fmc.models.outbox.OutboxItem`, :class:`~fmc.models.broadcast.JournalEntry`),
never database rows. Every datetime is timezone-aware; stores return UTC.
Backends: :class:`~fmc.store.MemoryStore`, :class:`~fmc.store.SQLiteStore`,
:class:`~fmc.store.PostgresStore`.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol, TypeVar, runtime_checkable

import attrs

from fmc.store._checks import aware, non_empty
from fmc.store.protocols import (
    DedupStore,
    DeliveryStore,
    JournalStore,
    OutboxStore,
    SubscriberDirectory,
)

__all__ = ["BroadcastInfo", "EventRecord", "SubscriberStore"]

_S = TypeVar("_S", bound="SubscriberStore")


@attrs.frozen
class EventRecord:
    """One webhook event from a person, as the store registers it.

    Attributes:
        page_id: The Page the event was sent to.
        psid: The person's page-scoped id.
        at: When the event happened.
        interaction: Whether the event opens the 24-hour window (a message,
            postback, reaction, referral or plugin opt-in; not a delivery,
            read or echo).
        human_agent: Whether it records a reply a human agent sent the person.
        ad_referral: Whether it came from a Click-to-Messenger ad (opens its 7-day window).
    """

    page_id: str = attrs.field(validator=non_empty)
    psid: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(validator=aware)
    interaction: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    human_agent: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    ad_referral: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))


@attrs.frozen
class BroadcastInfo:
    """What the journal knows about one broadcast.

    Attributes:
        broadcast_id: The caller's id for the broadcast; runs with the same id
            are the same broadcast.
        page_id: The Page it is sent from.
        purpose: The purpose's value (``fmc.Purpose``), as text.
        message: The message as its Graph JSON, so a resumed run can check it
            sends the same thing.
        created_at: When the first run began.
        fingerprint: What the broadcast sends to whom (Page, purpose, message,
            audience), hashed; lets the CLI find an earlier run of the same
            broadcast instead of starting it twice. ``None`` when not given.
    """

    broadcast_id: str = attrs.field(validator=non_empty)
    page_id: str = attrs.field(validator=non_empty)
    purpose: str
    message: str
    created_at: datetime = attrs.field(validator=aware)
    fingerprint: str | None = None


@runtime_checkable
class SubscriberStore(
    SubscriberDirectory, DedupStore, DeliveryStore, OutboxStore, JournalStore, Protocol
):
    """Where a Channel keeps subscribers, dedup keys, its outbox and broadcast journals.

    The composition of the small protocols of :mod:`fmc.store.protocols`, one
    per concern, and a store's lifecycle. Implementations are safe to share
    between threads. Errors of the underlying database are raised as
    :class:`fmc.errors.StoreError`; a naive datetime argument raises
    :class:`ValueError`.
    """

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...

    def __enter__(self: _S) -> _S:
        """Return the store itself."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        ...
