"""Turn a webhook body into typed events.

The event class is chosen by which key the ``messaging`` item holds (``message``,
``postback``, ``read`` ...; ``message`` with ``is_echo`` is an echo), and built
by that kind's builder in :mod:`fmc.webhook.kinds`: plain functions over dicts,
because this is the hot path of every delivery. :func:`make_event_converter`
registers them on fmc's cattrs converter so ``converter.structure(body, Delivery)`` and
``converter.unstructure(event)`` (which gives back ``event.raw``) work too.

What is refused and what is kept:

* A body that is not JSON, not an object, has another ``object`` than the accepted
  ones, or whose ``entry`` / ``messaging`` / ``standby`` are not lists of objects
  raises :class:`~fmc.errors.PayloadError` (the handler answers 400).
* An item of a kind fmc does not know, or of a known kind whose fields have the
  wrong shape (a missing ``mid``, a string timestamp ...), becomes an
  :class:`~fmc.webhook.events.UnknownEvent` carrying the reason and the raw item:
  one odd event never costs the rest of the delivery, and nothing is dropped.
* ``changes`` items (Page feed webhooks) and entries without any items become
  :class:`~fmc.webhook.events.UnknownEvent` too.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import attrs
import cattrs

from fmc.convert import make_converter
from fmc.errors import PayloadError
from fmc.webhook.events import Event, UnknownEvent
from fmc.webhook.kinds import BUILDERS, KNOWN_KEYS, ShapeError, millis, party

__all__ = [
    "DEFAULT_OBJECTS",
    "KNOWN_KEYS",
    "Delivery",
    "decode_body",
    "make_event_converter",
    "parse_data",
    "parse_delivery",
    "parse_events",
    "parse_item",
]

#: The ``object`` values accepted by default.
DEFAULT_OBJECTS: frozenset[str] = frozenset({"page"})

_loads = json.loads


@attrs.frozen
class Delivery:
    """One parsed webhook body.

    Attributes:
        object: The body's ``object`` (``page``).
        events: Every event of every entry, in order.
    """

    object: str
    events: tuple[Event, ...]


def _lenient(item: dict[str, Any], key: str) -> str | None:
    try:
        return party(item, key)
    except ShapeError:
        return None


def _unknown(item: dict[str, Any], page_id: str | None, standby: bool, reason: str) -> UnknownEvent:
    try:
        ts: datetime | None = millis(item.get("timestamp"), "timestamp")
    except ShapeError:
        ts = None
    return UnknownEvent(
        raw=item,
        standby=standby,
        reason=reason,
        page_id=page_id,
        sender_id=_lenient(item, "sender"),
        recipient_id=_lenient(item, "recipient"),
        timestamp=ts,
    )


def parse_item(
    item: dict[str, Any], page_id: str | None, *, standby: bool = False, entry_time: Any = None
) -> Event:
    """Build the event for one ``messaging`` (or ``standby``) item.

    Args:
        item: The item as decoded from JSON.
        page_id: The ``id`` of its entry (``None`` when the entry had none).
        standby: Whether the item came from ``entry[].standby``.
        entry_time: The entry's ``time``, used when the item has no
            ``timestamp`` (Meta's ``message_deliveries`` example has none).

    Returns:
        The typed event, or an :class:`~fmc.webhook.events.UnknownEvent` naming what was wrong.
    """
    for key, build, needs_sender in BUILDERS:  # noqa: B007 - the loop finds the kind
        if key in item:
            break
    else:
        return _unknown(item, page_id, standby, "unknown event kind")
    try:
        # The envelope first, the same for every kind; then the kind's own fields.
        if page_id is None:
            raise ShapeError("the entry has no id")
        recipient = party(item, "recipient")
        if recipient is None:
            raise ShapeError("recipient.id is missing")
        sender = party(item, "sender")
        timestamp = millis(item.get("timestamp", entry_time), "timestamp")
        if needs_sender and sender is None:
            raise ShapeError("sender.id is missing")
        cls, fields = build(item, item[key])
        return cls(
            raw=item,
            standby=standby,
            page_id=page_id,
            sender_id=sender,
            recipient_id=recipient,
            timestamp=timestamp,
            **fields,
        )
    except ShapeError as exc:
        return _unknown(item, page_id, standby, f"broken {key!r} event: {exc}")
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        return _unknown(item, page_id, standby, f"broken {key!r} event ({type(exc).__name__})")


def _entry_events(entry: dict[str, Any], events: list[Event]) -> None:
    raw_id = entry.get("id")
    page_id = str(raw_id) if type(raw_id) is int else raw_id if type(raw_id) is str else None
    found = False
    for key, items in entry.items():
        if key == "messaging":
            standby = False
        elif key == "standby":
            standby = True
        elif key == "changes":
            if type(items) is not list:
                raise PayloadError("entry changes must be a list")
            found = True
            for change in items:
                if type(change) is not dict:
                    raise PayloadError("entry changes must hold objects")
                events.append(
                    UnknownEvent(
                        raw=change, page_id=page_id, reason="'changes' item, not a Messenger event"
                    )
                )
            continue
        else:
            continue
        if type(items) is not list:
            raise PayloadError(f"entry {key} must be a list")
        found = True
        for item in items:
            if type(item) is not dict:
                raise PayloadError(f"entry {key} must hold objects")
            events.append(parse_item(item, page_id, standby=standby, entry_time=entry.get("time")))
    if not found:
        events.append(
            UnknownEvent(raw=entry, page_id=page_id, reason="entry without messaging items")
        )


def parse_data(data: Any, *, objects: Collection[str] = DEFAULT_OBJECTS) -> list[Event]:
    """Parse an already decoded body; see :func:`parse_events`.

    Raises:
        PayloadError: the body is not a delivery (see the module docstring).
    """
    if type(data) is not dict:
        raise PayloadError("body is not a JSON object")
    obj = data.get("object")
    if type(obj) is not str or obj not in objects:
        raise PayloadError("body 'object' is not an accepted value")
    entries = data.get("entry")
    if type(entries) is not list:
        raise PayloadError("body 'entry' must be a list")
    events: list[Event] = []
    for entry in entries:
        if type(entry) is not dict:
            raise PayloadError("body 'entry' must hold objects")
        _entry_events(entry, events)
    return events


def decode_body(body: bytes | str) -> Any:
    """Decode a JSON body, refusing anything that is not JSON.

    Raises:
        PayloadError: not UTF-8 JSON, or nested too deep.
    """
    try:
        return _loads(body)
    except (ValueError, RecursionError):
        raise PayloadError("body is not valid JSON") from None


def parse_events(
    body: bytes | str | Mapping[str, Any], *, objects: Collection[str] = DEFAULT_OBJECTS
) -> list[Event]:
    """Parse a webhook body (raw bytes, text or decoded dict) into its events, in order.

    This does not check the signature; :meth:`~fmc.webhook.handler.WebhookHandler.handle` does both.
    (For the body as one value, ``make_event_converter().structure(data, Delivery)``.)

    Args:
        body: The body as received, or the dict it decodes to.
        objects: The accepted values of ``object``.

    Returns:
        Every event of every entry (``messaging`` and ``standby``), in order.

    Raises:
        PayloadError: the body is not a Messenger delivery.
    """
    data = decode_body(body) if isinstance(body, (bytes, str)) else dict(body)
    return parse_data(data, objects=objects)


def parse_delivery(
    body: bytes | str | Mapping[str, Any], *, objects: Collection[str] = DEFAULT_OBJECTS
) -> list[Event]:
    """Deprecated name of :func:`parse_events` (removed in the next release).

    It was renamed because it returns a list of events, not a :class:`Delivery`.

    Warns:
        DeprecationWarning: on every call.
    """
    warnings.warn(
        "fmc.webhook.parse_delivery is deprecated and will be removed in the next release; "
        "use fmc.webhook.parse_events (same arguments, same list of events)",
        DeprecationWarning,
        stacklevel=2,
    )
    return parse_events(body, objects=objects)


def make_event_converter() -> cattrs.Converter:
    """Build fmc's converter with the webhook hooks registered.

    ``structure(body_dict, Delivery)`` parses a body; ``unstructure(event)``
    gives back the raw item the event was built from.

    Returns:
        A converter from :func:`fmc.convert.make_converter` with the hooks added.
    """
    converter = make_converter()

    def structure_delivery(data: Any, _: Any) -> Delivery:
        events = parse_data(data)
        return Delivery(object=data["object"], events=tuple(events))

    converter.register_structure_hook(Delivery, structure_delivery)
    converter.register_unstructure_hook_func(
        lambda cls: isinstance(cls, type) and issubclass(cls, Event),
        lambda event: event.raw,
    )
    return converter
