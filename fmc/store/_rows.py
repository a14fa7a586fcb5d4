"""Rows as models: one subscriber decoder and one outbox decoder for both SQL dialects.

The dialects differ only in how a time and a JSON column come back (see
:mod:`fmc.store._dialect`). Decoding subscribers is on the broadcast's hot
path (one call per person), so :func:`subscriber_decoder` builds the frozen
instance directly, without running its validators again: every value in the
row was validated by the write that stored it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import attrs

from fmc.errors import StoreError
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import Subscriber, SubscriberStatus
from fmc.store._codec import tokens_from_data
from fmc.store._dialect import Dialect

__all__ = ["SUBSCRIBER_COLUMNS", "outbox_decoder", "subscriber_decoder"]

#: The subscriber queries' columns, in the order of :class:`Subscriber`'s fields.
SUBSCRIBER_COLUMNS = tuple(field.name for field in attrs.fields(Subscriber))
_STATUSES = {status.value: status for status in SubscriberStatus}
_TIMES = tuple(
    index for index, name in enumerate(SUBSCRIBER_COLUMNS) if name.endswith("_at")
)  # first_seen_at, last_interaction_at, last_human_agent_at, ad_referral_at
_STATUS = SUBSCRIBER_COLUMNS.index("status")
_TOKENS = SUBSCRIBER_COLUMNS.index("tokens")


def subscriber_decoder(dialect: Dialect) -> Callable[[Sequence[Any]], Subscriber]:
    """The function that turns a row of ``SUBSCRIBER_COLUMNS`` into a :class:`Subscriber`."""
    decode_time = dialect.decode_time
    decode_json = dialect.decode_json
    new = object.__new__
    put = object.__setattr__  # how attrs itself sets a frozen instance's fields
    names = SUBSCRIBER_COLUMNS

    def decode(row: Sequence[Any]) -> Subscriber:
        values = list(row)
        values[_STATUS] = _STATUSES[values[_STATUS]]
        for index in _TIMES:
            if values[index] is not None:
                values[index] = decode_time(values[index])
        raw = values[_TOKENS]
        # Most people have no token: skip the JSON parser for them.
        values[_TOKENS] = () if not raw or raw == "[]" else tokens_from_data(decode_json(raw))
        subscriber: Subscriber = new(Subscriber)
        for name, value in zip(names, values, strict=True):
            put(subscriber, name, value)
        return subscriber

    return decode


def _required(value: datetime | None) -> datetime:
    if value is None:
        raise StoreError("a required time is missing from the database")
    return value


def outbox_decoder(dialect: Dialect) -> Callable[[Sequence[Any]], OutboxItem]:
    """The function that turns a row of the outbox query into an :class:`OutboxItem`."""
    decode_time = dialect.decode_time
    decode_json = dialect.decode_json

    def decode(row: Sequence[Any]) -> OutboxItem:
        return OutboxItem(
            id=row[0],
            url=row[1],
            body=bytes(row[2]),
            headers=[(str(k), str(v)) for k, v in decode_json(row[3])],
            order_key=row[4],
            created_at=_required(decode_time(row[5])),
            attempts=row[6],
            next_attempt_at=decode_time(row[7]),
            last_error=row[8],
        )

    return decode
