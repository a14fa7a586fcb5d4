"""What every store backend shares: datetime and token encodings, event merging."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs

from fmc.models.subscriber import NotificationToken, TokenKind, TokenStatus
from fmc.store.base import EventRecord

__all__ = [
    "MergedEvent",
    "from_micros",
    "merge_events",
    "ordered_unique",
    "to_micros",
    "tokens_from_data",
    "tokens_to_data",
    "utc",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)
_T = TypeVar("_T")


def utc(value: datetime, name: str = "datetime") -> datetime:
    """Return ``value`` in UTC.

    Raises:
        ValueError: ``value`` is naive.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got a naive one")
    return value.astimezone(timezone.utc)


def to_micros(value: datetime, name: str = "datetime") -> int:
    """Encode an aware datetime as integer microseconds since the Unix epoch."""
    return (utc(value, name) - _EPOCH) // _MICRO


def from_micros(value: int | None) -> datetime | None:
    """Decode :func:`to_micros` (``None`` stays ``None``)."""
    # Positional arguments: a measurably cheaper timedelta on a hot path (row decoding).
    return None if value is None else _EPOCH + timedelta(0, 0, value)


def _opt_micros(value: datetime | None) -> int | None:
    return None if value is None else to_micros(value)


def tokens_to_data(tokens: Iterable[NotificationToken]) -> list[dict[str, Any]]:
    """Encode tokens as JSON-ready dicts (datetimes as epoch microseconds)."""
    return [
        {
            "kind": token.kind.value,
            "token": token.token,
            "topic": token.topic,
            "frequency": token.frequency,
            "expires_at": _opt_micros(token.expires_at),
            "status": token.status.value,
            "created_at": _opt_micros(token.created_at),
        }
        for token in tokens
    ]


def tokens_from_data(data: Iterable[dict[str, Any]]) -> tuple[NotificationToken, ...]:
    """Decode :func:`tokens_to_data`."""
    return tuple(
        NotificationToken(
            kind=TokenKind(item["kind"]),
            token=item["token"],
            topic=item.get("topic"),
            frequency=item.get("frequency"),
            expires_at=from_micros(item.get("expires_at")),
            status=TokenStatus(item["status"]),
            created_at=from_micros(item.get("created_at")),
        )
        for item in data
    )


@attrs.frozen
class MergedEvent:
    """All the events of one person in a batch, folded into one upsert.

    Attributes:
        page_id: The Page.
        psid: The person.
        first_at: The earliest event time (a first-seen candidate).
        interaction_at: The latest interaction, if any.
        human_agent_at: The latest human-agent reply, if any.
        ad_referral_at: The latest message or referral from a Click-to-Messenger ad, if any.
    """

    page_id: str
    psid: str
    first_at: datetime
    interaction_at: datetime | None
    human_agent_at: datetime | None
    ad_referral_at: datetime | None = None


def _later(old: datetime | None, new: datetime | None) -> datetime | None:
    if old is None:
        return new
    if new is None:
        return old
    return max(old, new)


def merge_events(records: Iterable[EventRecord]) -> list[MergedEvent]:
    """Fold events per ``(page_id, psid)``, sorted by key.

    One row per key lets a backend upsert a batch in one statement, and the
    sorted order makes concurrent batches lock rows in the same order.
    """
    merged: dict[tuple[str, str], MergedEvent] = {}
    for record in records:
        at = utc(record.at, "at")
        key = (record.page_id, record.psid)
        interaction_at = at if record.interaction else None
        human_at = at if record.human_agent else None
        ad_at = at if record.ad_referral else None
        old = merged.get(key)
        if old is None:
            merged[key] = MergedEvent(
                record.page_id, record.psid, at, interaction_at, human_at, ad_at
            )
        else:
            merged[key] = MergedEvent(
                record.page_id,
                record.psid,
                min(old.first_at, at),
                _later(old.interaction_at, interaction_at),
                _later(old.human_agent_at, human_at),
                _later(old.ad_referral_at, ad_at),
            )
    return [merged[key] for key in sorted(merged)]


def ordered_unique(items: Sequence[_T]) -> list[_T]:
    """Drop repeated items, keeping the first occurrence's order."""
    return list(dict.fromkeys(items))
