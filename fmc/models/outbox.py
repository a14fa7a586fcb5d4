"""Forwarding outbox items: webhook deliveries waiting to reach a ``redirect_to`` address."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

import attrs

__all__ = ["OutboxItem"]


_CREDENTIALS = re.compile(r"//[^/?#@]*@")
_QUERY = re.compile(r"[?#].*", re.DOTALL)


def _header_tuple(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for name, value in headers)


def _redacted(text: str) -> str:
    """A URL (or a key ending in one) without credentials, query or fragment, for ``repr``."""
    return repr(_QUERY.sub("?REDACTED", _CREDENTIALS.sub("//REDACTED@", text)))


@attrs.frozen
class OutboxItem:
    """One webhook delivery to forward, byte for byte.

    Attributes:
        url: The ``redirect_to`` address, already validated.
        body: The raw body exactly as Facebook sent it.
        headers: The headers to send with it (signature and content type).
        order_key: Deliveries with the same key are delivered in order (the
            sender id of the first event, or the page id).
        created_at: When the delivery was received.
        attempts: How many forwarding attempts failed so far.
        next_attempt_at: Not before this time.
        last_error: Why the last attempt failed.
        id: The store's id, ``None`` until stored.

    The ``repr`` leaves out credentials, query and fragment of the URL (and of
    the order key, which ends with it): they may hold the receiver's secrets.
    """

    url: str = attrs.field(repr=_redacted)
    body: bytes = attrs.field(repr=lambda body: f"<{len(body)} bytes>")
    headers: tuple[tuple[str, str], ...] = attrs.field(converter=_header_tuple)
    order_key: str = attrs.field(repr=_redacted)
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    id: int | None = None
