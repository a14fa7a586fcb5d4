"""What the fake Graph API records and answers: accepted sends, requests and replies."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = ["JSON_HEADERS", "AcceptedSend", "Ledger", "RecordedRequest", "Reply"]

#: The headers of a JSON answer from the Graph API.
JSON_HEADERS = (("Content-Type", "application/json; charset=UTF-8"),)


@attrs.frozen
class AcceptedSend:
    """One send the fake Graph API accepted: what it would have delivered to Messenger.

    Not to be confused with a webhook delivery (a body Meta posts to your
    webhook); ``fmc.testing.Delivery`` is this class's deprecated former name.

    Attributes:
        number: Its position among all accepted sends, from 1.
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


class Ledger:
    """The thread-safe record of what one fake received and accepted, and the ids it made up.

    Message ids, ``fbtrace_id``\\ s and attachment ids are derived from the
    fake's seed and a counter that survives :meth:`clear`, so they repeat from
    run to run and stay unique within one, as Meta's are.
    """

    def __init__(self, seed: int, clock: Callable[[], float]) -> None:
        """Create an empty ledger.

        Args:
            seed: Seeds the ids it makes up.
            clock: Monotonic clock for the times recorded.
        """
        self._seed = str(seed).encode()
        self._clock = clock
        self._lock = threading.Lock()
        self._sends: list[AcceptedSend] = []
        self._by_recipient: defaultdict[str, list[AcceptedSend]] = defaultdict(list)
        self._requests: list[RecordedRequest] = []
        self._ids = 0

    @property
    def sends(self) -> list[AcceptedSend]:
        """Every accepted send, in order (a copy)."""
        with self._lock:
            return list(self._sends)

    @property
    def send_count(self) -> int:
        """How many sends were accepted."""
        return len(self._sends)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every HTTP request received, in order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """How many HTTP requests were received."""
        return len(self._requests)

    def sent_to(self, recipient: str) -> list[AcceptedSend]:
        """The accepted sends to one recipient key, in order."""
        with self._lock:
            return list(self._by_recipient.get(recipient, ()))

    def counts(self) -> Counter[str]:
        """How many sends each recipient key got."""
        with self._lock:
            return Counter({key: len(items) for key, items in self._by_recipient.items()})

    def snapshot(self, since: int = 0) -> tuple[list[AcceptedSend], int, int]:
        """At one instant: the sends after the first ``since``, their total, the request count."""
        with self._lock:
            return self._sends[since:], len(self._sends), len(self._requests)

    def add_request(self, method: str, path: str) -> int:
        """Record one HTTP request; its number, from 1."""
        with self._lock:
            number = len(self._requests) + 1
            self._requests.append(RecordedRequest(number, method, path, self._clock()))
        return number

    def add_send(
        self, *, with_message_id: bool, wall_time: datetime, **fields: Any
    ) -> AcceptedSend:
        """Record one accepted send, numbering it and making up its ``m_…`` id.

        Args:
            with_message_id: Whether the send gets a message id (not for sender actions).
            wall_time: The wall-clock time of acceptance.
            **fields: The other :class:`AcceptedSend` fields but ``number`` and ``time``.

        Returns:
            The record.
        """
        with self._lock:
            self._ids += 1
            message_id = "m_" + self._made_up(b"m", self._ids, 54) if with_message_id else None
            sent = AcceptedSend(
                number=len(self._sends) + 1,
                message_id=message_id,
                time=self._clock(),
                wall_time=wall_time,
                **fields,
            )
            self._sends.append(sent)
            self._by_recipient[sent.recipient_key].append(sent)
        return sent

    def clear(self) -> None:
        """Forget every send and request (the id counter goes on)."""
        with self._lock:
            self._sends.clear()
            self._by_recipient.clear()
            self._requests.clear()

    def next_number(self) -> int:
        """A fresh number for an id (attachment ids, persona ids …)."""
        with self._lock:
            self._ids += 1
            return self._ids

    def trace_id(self) -> str:
        """A made-up ``fbtrace_id``."""
        return "A" + self._made_up(b"t", self.next_number(), 22)

    def _made_up(self, prefix: bytes, number: int, length: int) -> str:
        digest = hashlib.sha256(prefix + self._seed + number.to_bytes(8, "big")).digest()
        return base64.urlsafe_b64encode(digest).decode()[:length].rstrip("=")
