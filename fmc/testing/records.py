"""What the fake Graph API records and answers: deliveries, requests and replies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = ["JSON_HEADERS", "Delivery", "RecordedRequest", "Reply"]

#: The headers of a JSON answer from the Graph API.
JSON_HEADERS = (("Content-Type", "application/json; charset=UTF-8"),)


@attrs.frozen
class Delivery:
    """One send the fake Graph API accepted.

    Attributes:
        number: Its position among all deliveries, from 1.
        recipient: The ``recipient`` object, e.g. ``{"id": "<PSID>"}``.
        message: The ``message`` object, or ``None`` for a sender action.
        sender_action: ``typing_on``, ``typing_off``, ``mark_seen`` or ``None``.
        messaging_type: ``RESPONSE``, ``UPDATE``, ``MESSAGE_TAG`` (or ``None``).
        tag: The message tag, if any.
        notification_type: ``REGULAR``, ``SILENT_PUSH``, ``NO_PUSH`` if given.
        persona_id: The persona, if given.
        message_id: The ``m_…`` id answered (``None`` for a sender action).
        time: The fake's monotonic clock when it was accepted (seconds).
        wall_time: The wall-clock time when it was accepted (aware UTC).
        request_number: The number of the HTTP request that carried it.
        batch_index: Its index in a Graph batch, ``None`` outside a batch.
    """

    number: int
    recipient: Mapping[str, str]
    message: Mapping[str, Any] | None
    sender_action: str | None
    messaging_type: str | None
    tag: str | None
    notification_type: str | None
    persona_id: str | None
    message_id: str | None
    time: float
    wall_time: datetime
    request_number: int
    batch_index: int | None = None

    @property
    def psid(self) -> str | None:
        """The recipient's PSID (``None`` for token, user_ref or comment recipients)."""
        return self.recipient.get("id")

    @property
    def recipient_key(self) -> str:
        """The value of the recipient's one key (a PSID, token, user_ref or comment id)."""
        return next(iter(self.recipient.values()))

    @property
    def text(self) -> str | None:
        """The message text, if it was a text message."""
        return self.message.get("text") if self.message is not None else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form served at ``GET /_fake/deliveries`` (``wall_time`` in epoch seconds)."""
        return {
            "number": self.number,
            "recipient": dict(self.recipient),
            "message": self.message,
            "sender_action": self.sender_action,
            "messaging_type": self.messaging_type,
            "tag": self.tag,
            "notification_type": self.notification_type,
            "persona_id": self.persona_id,
            "message_id": self.message_id,
            "time": self.time,
            "wall_time": self.wall_time.timestamp(),
            "request_number": self.request_number,
            "batch_index": self.batch_index,
        }


@attrs.frozen
class RecordedRequest:
    """One HTTP request the fake received (the query string, with its token, is not kept).

    Attributes:
        number: Its position, from 1.
        method: The HTTP method.
        path: The path, without the query string.
        time: The fake's monotonic clock when it arrived.
    """

    number: int
    method: str
    path: str
    time: float


@attrs.frozen
class Reply:
    """What the fake answers to one HTTP request.

    Attributes:
        status: The HTTP status.
        body: The body bytes.
        headers: The response headers.
        delay: Seconds the transport waits before answering (latency).
        drop: ``"before"`` or ``"after"``: close the connection without an
            answer instead (before: nothing was processed).
        exception: For drops in the requests-mock form, the exception to raise.
    """

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = JSON_HEADERS
    delay: float = 0.0
    drop: str | None = None
    exception: str | None = None

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)
