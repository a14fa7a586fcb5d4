"""What one webhook delivery changes in a store, committed in one transaction.

A :class:`DeliveryWrite` holds, for each event of a delivery, its dedup key and
its :class:`EventEffects` (subscriber registrations, status changes, token
changes), plus the forwarding outbox item when the delivery is forwarded with
``persist_first``. :meth:`~fmc.store.SubscriberStore.apply_delivery` commits it
all or nothing: an event's dedup mark is never committed without its effects.

Status and token changes follow *newer wins*: a change applies only when its
time ``at`` is not older than the last change applied to that subscriber's
status (or to that token), so a late or redelivered "start" from t1 cannot
undo a "stop" from t2 > t1.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import NotificationToken, SubscriberStatus
from fmc.store._checks import aware_with_offset, non_empty
from fmc.store.base import EventRecord

__all__ = [
    "NO_EFFECTS",
    "DeliveryResult",
    "DeliveryWrite",
    "EventEffects",
    "StatusChange",
    "TokenChange",
]


def _records(values: Iterable[EventRecord]) -> tuple[EventRecord, ...]:
    return tuple(values)


def _status_changes(values: Iterable[StatusChange]) -> tuple[StatusChange, ...]:
    return tuple(values)


def _token_changes(values: Iterable[TokenChange]) -> tuple[TokenChange, ...]:
    return tuple(values)


def _effects(values: Iterable[EventEffects]) -> tuple[EventEffects, ...]:
    return tuple(values)


def _keys(values: Iterable[str | None]) -> tuple[str | None, ...]:
    return tuple(values)


def _statuses(values: Iterable[SubscriberStatus] | None) -> frozenset[SubscriberStatus] | None:
    return None if values is None else frozenset(SubscriberStatus(v) for v in values)


@attrs.frozen
class StatusChange:
    """Set a subscriber's status, if newer than the last status change applied.

    Attributes:
        page_id: The Page.
        psid: The person.
        status: The new status.
        at: When the change happened (the event's time); it applies only if
            not older than the subscriber's last applied status change.
        reason: Why, kept as the status reason.
        only_from: Apply only when the current status is one of these (a
            missing subscriber is then left alone); ``None``: from any status,
            creating the subscriber if missing.
    """

    page_id: str = attrs.field(validator=non_empty)
    psid: str = attrs.field(validator=non_empty)
    status: SubscriberStatus = attrs.field(converter=SubscriberStatus)
    at: datetime = attrs.field(validator=aware_with_offset)
    reason: str | None = None
    only_from: frozenset[SubscriberStatus] | None = attrs.field(default=None, converter=_statuses)


@attrs.frozen
class TokenChange:
    """Keep a notification token, if newer than the last change applied to it.

    A token with the same string is replaced; when ``token.status`` is
    STOPPED, only its status changes and the rest of what is stored (topic,
    frequency, expiry) is kept.

    Attributes:
        page_id: The Page.
        psid: The person.
        token: The token as the opt-in (or stop) event gave it.
        at: When the change happened; it applies only if not older than the
            token's last applied change.
    """

    page_id: str = attrs.field(validator=non_empty)
    psid: str = attrs.field(validator=non_empty)
    token: NotificationToken
    at: datetime = attrs.field(validator=aware_with_offset)


@attrs.frozen
class EventEffects:
    """What one event changes about subscribers.

    Attributes:
        records: Registrations (upserts of first seen, last interaction ...).
        statuses: Status changes, applied in order after the records.
        tokens: Token changes, applied in order after the statuses.
    """

    records: tuple[EventRecord, ...] = attrs.field(default=(), converter=_records)
    statuses: tuple[StatusChange, ...] = attrs.field(default=(), converter=_status_changes)
    tokens: tuple[TokenChange, ...] = attrs.field(default=(), converter=_token_changes)

    @property
    def empty(self) -> bool:
        """True when the event changes nothing."""
        return not (self.records or self.statuses or self.tokens)


#: The effects of an event that changes nothing.
NO_EFFECTS = EventEffects()


def _same_length(instance: DeliveryWrite, attribute: attrs.Attribute[Any], value: Any) -> None:
    if len(value) != len(instance.keys):
        raise ValueError("a DeliveryWrite needs one EventEffects per dedup key")


@attrs.frozen
class DeliveryWrite:
    """Everything one delivery must make durable before it is acknowledged.

    Attributes:
        keys: Each event's dedup key, in order (``None``: the event cannot be
            identified and always counts as new).
        effects: Each event's effects, in the same order; those of an event
            whose key was already marked within ``window`` are skipped.
        now: The time the keys are marked at.
        window: How long a mark counts.
        outbox: The forwarding outbox item, stored when at least one event is
            new or the delivery has none (``persist_first`` forwarding).
    """

    keys: tuple[str | None, ...] = attrs.field(converter=_keys)
    effects: tuple[EventEffects, ...] = attrs.field(converter=_effects, validator=_same_length)
    now: datetime = attrs.field(validator=aware_with_offset)
    window: timedelta
    outbox: OutboxItem | None = None


@attrs.frozen
class DeliveryResult:
    """What :meth:`~fmc.store.SubscriberStore.apply_delivery` committed.

    Attributes:
        fresh: For each event, True when it was new (its effects applied).
        outbox_id: The id of the stored outbox item, or ``None``.
    """

    fresh: tuple[bool, ...]
    outbox_id: int | None = None

    @property
    def any_fresh(self) -> bool:
        """True when at least one event was new."""
        return any(self.fresh)
