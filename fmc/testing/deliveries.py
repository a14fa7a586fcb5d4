"""Webhook deliveries as Meta sends them, signed, for testing webhook handlers.

The event builders (:mod:`fmc.testing.events`) return one ``messaging`` item
each; :func:`signed_delivery` wraps them::

    body, headers = signed_delivery(
        [message_event("111", "hi"), read_event("111", watermark=1_700_000_000_000)],
        app_secret="s3cret",
    )
    response = handler.respond("POST", {}, headers, body)

It puts them in ``{"object": "page", "entry": [...]}``, serialises them the way
Meta does (compact, non-ASCII escaped as ``\\uXXXX``, ``/`` escaped as ``\\/``)
and signs the exact bytes: ``X-Hub-Signature-256`` is ``sha256=`` and the
lowercase hex HMAC-SHA256 of the body with the app secret (and the legacy
``X-Hub-Signature`` the same with SHA-1).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from fmc.testing.events import Event, Timestamp, epoch_millis
from fmc.testing.fake_graph import DEFAULT_PAGE_ID

__all__ = [
    "StandbyEvent",
    "delivery_payload",
    "signature_headers",
    "signed_delivery",
    "standby",
    "verification_query",
]


@attrs.frozen
class StandbyEvent:
    """An event delivered under ``entry[].standby`` (a thread another app controls).

    Attributes:
        event: The ``messaging``-shaped event.
    """

    event: Event


def standby(event: Event) -> StandbyEvent:
    """Mark an event as a standby event, for :func:`signed_delivery`.

    Args:
        event: An event from one of the builders.

    Returns:
        The event, to be put under ``entry[].standby``.
    """
    return StandbyEvent(event)


def delivery_payload(
    events: Iterable[Event | StandbyEvent],
    *,
    page_id: str = DEFAULT_PAGE_ID,
    object: str = "page",
    time: Timestamp = None,
) -> dict[str, Any]:
    """Wrap events in Meta's delivery envelope.

    Events go into one entry's ``messaging`` list; standby events into a
    second entry's ``standby`` list.

    Args:
        events: Events from the builders (standby ones wrapped with :func:`standby`).
        page_id: The Page's id (``entry[].id``).
        object: ``"page"`` (Messenger) or ``"instagram"``.
        time: The entries' ``time`` (now when ``None``).

    Returns:
        ``{"object": ..., "entry": [...]}``.
    """
    millis = epoch_millis(time)
    messaging: list[dict[str, Any]] = []
    standby_events: list[dict[str, Any]] = []
    for event in events:
        if isinstance(event, StandbyEvent):
            standby_events.append(dict(event.event))
        else:
            messaging.append(dict(event))
    entries: list[dict[str, Any]] = []
    if messaging or not standby_events:
        entries.append({"id": page_id, "time": millis, "messaging": messaging})
    if standby_events:
        entries.append({"id": page_id, "time": millis, "standby": standby_events})
    return {"object": object, "entry": entries}


def signature_headers(body: bytes, app_secret: str) -> dict[str, str]:
    """The headers Meta sends with a delivery body.

    Args:
        body: The exact body bytes.
        app_secret: The app secret.

    Returns:
        ``Content-Type``, ``X-Hub-Signature-256`` (``sha256=`` + lowercase hex) and
        the legacy ``X-Hub-Signature`` (``sha1=`` + lowercase hex).
    """
    key = app_secret.encode("utf-8")
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
        "X-Hub-Signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
    }


def signed_delivery(
    events: Event | StandbyEvent | Iterable[Event | StandbyEvent],
    app_secret: str,
    *,
    page_id: str = DEFAULT_PAGE_ID,
    object: str = "page",
    time: Timestamp = None,
) -> tuple[bytes, dict[str, str]]:
    """Build a webhook POST body in Meta's shape and its signature headers.

    Args:
        events: One event or several, from the builders.
        app_secret: The app secret to sign with.
        page_id: The Page's id.
        object: ``"page"`` or ``"instagram"``.
        time: The entries' ``time`` (now when ``None``).

    Returns:
        ``(body, headers)``: the exact bytes to POST and the headers to send with them.
    """
    if isinstance(events, (Mapping, StandbyEvent)):
        events = [events]
    payload = delivery_payload(events, page_id=page_id, object=object, time=time)
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    # Meta escapes "/" like PHP's json_encode; a handler must verify these exact bytes.
    body = text.replace("/", "\\/").encode("ascii")
    return body, signature_headers(body, app_secret)


def verification_query(verify_token: str, challenge: str = "1158201444") -> dict[str, str]:
    """The query string of Meta's ``GET`` subscription handshake.

    Args:
        verify_token: The verify token configured for the webhook.
        challenge: The challenge Meta expects back.

    Returns:
        ``{"hub.mode": "subscribe", "hub.verify_token": ..., "hub.challenge": ...}``.
    """
    return {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
