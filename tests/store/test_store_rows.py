"""One row decoder per model for both SQL dialects, equal to building the model normally."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc.errors import StoreError
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import (
    NotificationToken,
    Subscriber,
    SubscriberStatus,
    TokenKind,
    TokenStatus,
)
from fmc.store._codec import to_micros, tokens_to_data
from fmc.store._dialect import POSTGRES, SQLITE, Dialect
from fmc.store._rows import SUBSCRIBER_COLUMNS, outbox_decoder, subscriber_decoder

T0 = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=timezone.utc)
PARIS = timezone(timedelta(hours=1))
DIALECTS = [pytest.param(SQLITE, id="sqlite"), pytest.param(POSTGRES, id="postgres")]


def stored_time(dialect: Dialect, value: datetime | None) -> Any:
    """A time as the dialect's driver returns it (PostgreSQL: in the session's time zone)."""
    if value is None:
        return None
    return to_micros(value) if dialect is SQLITE else value.astimezone(PARIS)


def stored_json(dialect: Dialect, value: Any) -> Any:
    """A JSON column as the dialect's driver returns it (text, or parsed jsonb)."""
    return json.dumps(value) if dialect is SQLITE else value


def row_of(dialect: Dialect, subscriber: Subscriber) -> tuple[Any, ...]:
    """The row a subscriber query returns for ``subscriber``."""
    values = {field.name: getattr(subscriber, field.name) for field in attrs.fields(Subscriber)}
    values["status"] = subscriber.status.value
    for name in ("first_seen_at", "last_interaction_at", "last_human_agent_at", "ad_referral_at"):
        values[name] = stored_time(dialect, values[name])
    values["tokens"] = stored_json(dialect, tokens_to_data(subscriber.tokens))
    return tuple(values[name] for name in SUBSCRIBER_COLUMNS)


TOKEN = NotificationToken(
    TokenKind.NOTIFICATION_MESSAGES,
    "tok-1",
    topic="news",
    frequency="DAILY",
    expires_at=T0 + timedelta(days=180),
    status=TokenStatus.STOPPED,
    created_at=T0,
)
SUBSCRIBERS = [
    pytest.param(Subscriber("page-1", "p1"), id="bare"),
    pytest.param(
        Subscriber(
            "page-1",
            "p2",
            SubscriberStatus.OPTED_OUT,
            first_seen_at=T0,
            last_interaction_at=T0 + timedelta(hours=1),
            last_human_agent_at=T0 + timedelta(hours=2),
            name="Ada",
            locale="fr_FR",
            timezone=1.0,
            tokens=(TOKEN,),
            status_reason="wrote STOP",
            ad_referral_at=T0 + timedelta(minutes=5),
        ),
        id="every-field",
    ),
]


def test_columns_are_the_subscriber_fields_in_order() -> None:
    """The queries select exactly the model's fields, so the decoder sets every one of them."""
    assert tuple(field.name for field in attrs.fields(Subscriber)) == SUBSCRIBER_COLUMNS


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("subscriber", SUBSCRIBERS)
def test_decoded_subscriber_equals_the_stored_one(dialect: Dialect, subscriber: Subscriber) -> None:
    """A row decodes to a subscriber equal to the one written, with times in UTC."""
    decoded = subscriber_decoder(dialect)(row_of(dialect, subscriber))
    assert decoded == subscriber
    assert hash(decoded) == hash(subscriber)
    times = [decoded.first_seen_at, decoded.last_interaction_at, decoded.ad_referral_at]
    assert all(t is None or t.tzinfo is timezone.utc for t in times)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_decoded_subscriber_is_frozen_and_evolves_with_validation(dialect: Dialect) -> None:
    """The decoded instance behaves like a constructed one: frozen, and evolve still validates."""
    decoded = subscriber_decoder(dialect)(row_of(dialect, Subscriber("page-1", "p1")))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        decoded.psid = "p2"  # type: ignore[misc]
    with pytest.raises(ValueError, match="psid"):
        attrs.evolve(decoded, psid="")


@given(
    micros=st.one_of(st.none(), st.integers(min_value=0, max_value=to_micros(T0) * 2)),
    status=st.sampled_from(SubscriberStatus),
    name=st.one_of(st.none(), st.text(max_size=20)),
)
def test_sqlite_rows_round_trip(
    micros: int | None, status: SubscriberStatus, name: str | None
) -> None:
    """Any stored time, status and name decode to what the constructor would build."""
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    when = None if micros is None else epoch + timedelta(microseconds=micros)
    expected = Subscriber("page-1", "p1", status, first_seen_at=when, name=name)
    assert subscriber_decoder(SQLITE)(row_of(SQLITE, expected)) == expected


@pytest.mark.parametrize("dialect", DIALECTS)
def test_outbox_row_decodes_to_the_item(dialect: Dialect) -> None:
    """An outbox row decodes to the item stored, headers as pairs and times in UTC."""
    item = OutboxItem(
        url="https://bot.example/hook",
        body=b'{"object":"page"}',
        headers=[("X-Hub-Signature-256", "sha256=ab"), ("Content-Type", "application/json")],
        order_key="p1",
        created_at=T0,
        attempts=2,
        next_attempt_at=T0 + timedelta(seconds=30),
        last_error="HTTP 503",
        id=7,
    )
    row = (
        7,
        item.url,
        memoryview(item.body),
        stored_json(dialect, [list(pair) for pair in item.headers]),
        item.order_key,
        stored_time(dialect, item.created_at),
        2,
        stored_time(dialect, item.next_attempt_at),
        "HTTP 503",
    )
    assert outbox_decoder(dialect)(row) == item


@pytest.mark.parametrize("dialect", DIALECTS)
def test_outbox_row_without_creation_time_is_a_store_error(dialect: Dialect) -> None:
    """A row missing its required creation time is a StoreError, not a half-built item."""
    row = (
        1,
        "https://bot.example/hook",
        b"{}",
        stored_json(dialect, []),
        "p1",
        None,
        0,
        None,
        None,
    )
    with pytest.raises(StoreError, match="required time"):
        outbox_decoder(dialect)(row)
