"""Per-event isolation: an event whose ids cannot be stored must not cost its neighbours.

JSON may carry strings no database accepts: a lone UTF-16 surrogate
(``"\\ud800"``, which cannot be encoded as UTF-8) or a NUL character (which
PostgreSQL text refuses). If such a string reached the store as a PSID, a page
id, a ``mid`` or a token, the whole delivery's transaction would fail, every
time Meta redelivered it. :func:`isolate` replaces each such event by an
:class:`InvalidEvent` that keeps the raw item and says what was wrong; the
handler dispatches it to callbacks (``handler.on(InvalidEvent, ...)``), logs
it and stores nothing for it, and the other events of the delivery commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import attrs

from fmc.webhook.events import Event, OptinEvent, PolicyEnforcementEvent

__all__ = ["InvalidEvent", "isolate", "unstorable"]

#: The fields of every event that reach a store (ids, and the ``mid`` in dedup keys).
_IDS = ("page_id", "sender_id", "recipient_id", "mid")
#: Further fields some kinds store, as data: (kind, fields).
_STORED: tuple[tuple[type[Event], tuple[str, ...]], ...] = (
    (
        OptinEvent,
        ("one_time_notif_token", "notification_messages_token", "payload", "title", "frequency"),
    ),
    (PolicyEnforcementEvent, ("reason",)),
)


@attrs.frozen(kw_only=True)
class InvalidEvent(Event):
    """An event fmc cannot store (see the module docs); nothing is recorded for it.

    Attributes:
        reason: What was wrong, e.g. ``"sender_id holds a lone surrogate"``.
        event_kind: The kind the event would have been (``messages`` ...).
        page_id: ``entry[].id`` when it is storable, else ``None``.
    """

    kind: ClassVar[str] = "invalid"

    reason: str
    event_kind: str
    page_id: str | None = None


def _problem(value: str) -> str | None:
    if "\x00" in value:
        return "a NUL character"
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate"
    return None


def _fields(event: Event) -> Iterable[str]:
    yield from _IDS
    for cls, names in _STORED:
        if isinstance(event, cls):
            yield from names


def unstorable(event: Event) -> str | None:
    """Why an event cannot be stored, or ``None`` when it can.

    Args:
        event: A parsed event.

    Returns:
        A reason naming the field and what it holds.
    """
    for name in _fields(event):
        value: Any = getattr(event, name, None)
        if type(value) is str:
            problem = _problem(value)
            if problem is not None:
                return f"{name} holds {problem}"
    return None


def isolate(events: list[Event]) -> list[Event]:
    """Replace each event that cannot be stored by an :class:`InvalidEvent`.

    Args:
        events: A delivery's events, in order.

    Returns:
        The same list when every event is storable, else a new one in the same order.
    """
    result = events
    for index, event in enumerate(events):
        reason = unstorable(event)
        if reason is None:
            continue
        if result is events:
            result = list(events)
        page_id = getattr(event, "page_id", None)
        result[index] = InvalidEvent(
            raw=event.raw,
            standby=event.standby,
            reason=reason,
            event_kind=event.kind,
            page_id=page_id if page_id is not None and _problem(page_id) is None else None,
        )
    return result
