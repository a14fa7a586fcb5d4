"""Turn a webhook body into typed events.

The event class is chosen by which key the ``messaging`` item holds (``message``,
``postback``, ``read`` ...; ``message`` with ``is_echo`` is an echo). Builders are
plain functions over dicts, checked field by field, because this is the hot path
of every delivery; :func:`make_event_converter` registers them on fmc's cattrs
converter so ``converter.structure(body, Delivery)`` and
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
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs
import cattrs

from fmc.convert import make_converter
from fmc.errors import PayloadError
from fmc.webhook.events import (
    AccountLinkingEvent,
    Attachment,
    Coordinates,
    DeliveryEvent,
    EchoEvent,
    Event,
    GamePlayEvent,
    HandoverEvent,
    MessageEditEvent,
    MessageEvent,
    OptinEvent,
    PolicyEnforcementEvent,
    PostbackEvent,
    ReactionEvent,
    ReadEvent,
    Referral,
    ReferralEvent,
    UnknownEvent,
)

__all__ = ["DEFAULT_OBJECTS", "Delivery", "make_event_converter", "parse_delivery", "parse_item"]

#: The ``object`` values accepted by default.
DEFAULT_OBJECTS: frozenset[str] = frozenset({"page"})

_UTC = timezone.utc
_fromtimestamp = datetime.fromtimestamp
_loads = json.loads


class _BrokenError(Exception):
    """A known event kind with a field of the wrong shape; the message says which."""


@attrs.frozen
class Delivery:
    """One parsed webhook body.

    Attributes:
        object: The body's ``object`` (``page``).
        events: Every event of every entry, in order.
    """

    object: str
    events: tuple[Event, ...]


def _millis(value: Any, name: str) -> datetime:
    kind = type(value)
    if kind is int or kind is float:
        try:
            return _fromtimestamp(value / 1000, _UTC)
        except (OverflowError, OSError, ValueError):
            raise _BrokenError(f"{name} is out of range") from None
    raise _BrokenError(f"{name} must be epoch milliseconds")


def _opt_millis(data: dict[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    return None if value is None else _millis(value, key)


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or type(value) is str:
        return value
    raise _BrokenError(f"{key} must be a string")


def _req_str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if type(value) is str:
        return value
    raise _BrokenError(f"{key} must be a string")


def _opt_id(data: dict[str, Any], key: str) -> str | None:
    """Ids are strings on the wire, but some (``app_id``) arrive as numbers."""
    value = data.get(key)
    kind = type(value)
    if value is None or kind is str:
        return value
    if kind is int:
        return str(value)
    raise _BrokenError(f"{key} must be an id")


def _req_id(data: dict[str, Any], key: str) -> str:
    value = _opt_id(data, key)
    if value is None:
        raise _BrokenError(f"{key} is missing")
    return value


def _opt_number(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    kind = type(value)
    if value is None or kind is float:
        return value
    if kind is int:
        return float(value)
    raise _BrokenError(f"{key} must be a number")


def _obj(value: Any, name: str) -> dict[str, Any]:
    if type(value) is dict:
        return value
    raise _BrokenError(f"{name} must be an object")


def _party(item: dict[str, Any], key: str) -> str | None:
    """The ``id`` of ``sender`` / ``recipient``, ``None`` when absent."""
    party = item.get(key)
    if party is None:
        return None
    if type(party) is not dict:
        raise _BrokenError(f"{key} must be an object")
    return _opt_id(party, "id")


def _coordinates(payload: dict[str, Any]) -> Coordinates | None:
    raw = payload.get("coordinates")
    if raw is None:
        return None
    coords = _obj(raw, "coordinates")
    lat = _opt_number(coords, "lat")
    long = _opt_number(coords, "long")
    if lat is None or long is None:
        raise _BrokenError("coordinates need lat and long")
    return Coordinates(lat, long)


def _attachment(raw: Any) -> Attachment:
    att = _obj(raw, "attachment")
    payload_raw = att.get("payload")
    payload = {} if payload_raw is None else _obj(payload_raw, "attachment payload")
    url = _opt_str(payload, "url") or _opt_str(att, "url") or _opt_str(att, "URL")
    sticker = payload.get("sticker_id")
    if sticker is not None and type(sticker) is not int:
        raise _BrokenError("sticker_id must be an integer")
    return Attachment(
        type=_req_str(att, "type"),
        payload=payload,
        url=url,
        title=_opt_str(att, "title") or _opt_str(payload, "title"),
        coordinates=_coordinates(payload),
        sticker_id=sticker,
    )


def _attachments(message: dict[str, Any]) -> tuple[Attachment, ...]:
    raw = message.get("attachments")
    if raw is None:
        return ()
    if type(raw) is not list:
        raise _BrokenError("attachments must be a list")
    return tuple([_attachment(att) for att in raw])


def _referral(raw: Any) -> Referral:
    ref = _obj(raw, "referral")
    return Referral(
        ref=_opt_str(ref, "ref"),
        source=_opt_str(ref, "source"),
        type=_opt_str(ref, "type"),
        ad_id=_opt_id(ref, "ad_id"),
        referer_uri=_opt_str(ref, "referer_uri"),
    )


def _quick_reply_payload(message: dict[str, Any]) -> str | None:
    quick_reply = message.get("quick_reply")
    if quick_reply is None:
        return None
    return _opt_str(_obj(quick_reply, "quick_reply"), "payload")


# Every builder takes (item, value of its key, page_id, sender, recipient, timestamp, standby).
_Builder = Callable[[dict[str, Any], Any, str, "str | None", str, datetime, bool], Event]


def _need_sender(sender: str | None) -> str:
    if sender is None:
        raise _BrokenError("sender.id is missing")
    return sender


def _message(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    if type(value) is not dict:
        raise _BrokenError("message must be an object")
    mid = value.get("mid")
    if type(mid) is not str:
        raise _BrokenError("mid must be a string")
    text = value.get("text")
    if text is not None and type(text) is not str:
        raise _BrokenError("text must be a string")
    sender_id = _need_sender(sender)
    if value.get("is_echo") is True:
        return EchoEvent(
            raw=item,
            standby=standby,
            page_id=page_id,
            sender_id=sender_id,
            recipient_id=recipient,
            timestamp=ts,
            mid=mid,
            app_id=_opt_id(value, "app_id"),
            text=text,
            attachments=_attachments(value),
            metadata=_opt_str(value, "metadata"),
            quick_reply_payload=_quick_reply_payload(value),
        )
    reply_to = value.get("reply_to")
    return MessageEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=sender_id,
        recipient_id=recipient,
        timestamp=ts,
        mid=mid,
        text=text,
        quick_reply_payload=None if "quick_reply" not in value else _quick_reply_payload(value),
        attachments=() if "attachments" not in value else _attachments(value),
        reply_to_mid=None if reply_to is None else _opt_str(_obj(reply_to, "reply_to"), "mid"),
        metadata=None if "metadata" not in value else _opt_str(value, "metadata"),
    )


def _delivery(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    data = _obj(value, "delivery")
    mids = data.get("mids")
    if mids is None:
        mids = ()
    elif type(mids) is not list or any(type(mid) is not str for mid in mids):
        raise _BrokenError("mids must be a list of strings")
    return DeliveryEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        watermark=_millis(data.get("watermark"), "watermark"),
        mids=tuple(mids),
    )


def _read(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    data = _obj(value, "read")
    return ReadEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        watermark=_millis(data.get("watermark"), "watermark"),
    )


def _postback(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    data = _obj(value, "postback")
    referral = data.get("referral")
    return PostbackEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        payload=_opt_str(data, "payload"),
        title=_opt_str(data, "title"),
        mid=_opt_str(data, "mid"),
        referral=None if referral is None else _referral(referral),
    )


def _optin(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    data = _obj(value, "optin")
    return OptinEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=sender,
        recipient_id=recipient,
        timestamp=ts,
        type=_opt_str(data, "type"),
        ref=_opt_str(data, "ref"),
        user_ref=_opt_str(data, "user_ref"),
        payload=_opt_str(data, "payload"),
        title=_opt_str(data, "title"),
        one_time_notif_token=_opt_str(data, "one_time_notif_token"),
        notification_messages_token=_opt_str(data, "notification_messages_token"),
        frequency=_opt_str(data, "notification_messages_frequency"),
        status=_opt_str(data, "notification_messages_status"),
        token_expiry=_opt_millis(data, "token_expiry_timestamp"),
        timezone=_opt_str(data, "notification_messages_timezone"),
        user_token_status=_opt_str(data, "user_token_status"),
    )


def _referral_event(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    return ReferralEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        referral=_referral(value),
    )


def _reaction(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    data = _obj(value, "reaction")
    return ReactionEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        action=_req_str(data, "action"),
        mid=_opt_str(data, "mid"),
        reaction=_opt_str(data, "reaction"),
        emoji=_opt_str(data, "emoji"),
    )


def _account_linking(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    data = _obj(value, "account_linking")
    return AccountLinkingEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        status=_req_str(data, "status"),
        authorization_code=_opt_str(data, "authorization_code"),
    )


def _app_roles(value: Any) -> dict[str, tuple[str, ...]]:
    data = _obj(value, "app_roles")
    roles: dict[str, tuple[str, ...]] = {}
    for app_id, app_roles in data.items():
        if type(app_roles) is not list or any(type(role) is not str for role in app_roles):
            raise _BrokenError("app_roles values must be lists of strings")
        roles[app_id] = tuple(app_roles)
    return roles


def _handover(action: str) -> _Builder:
    def build(
        item: dict[str, Any],
        value: Any,
        page_id: str,
        sender: str | None,
        recipient: str,
        ts: datetime,
        standby: bool,
    ) -> Event:
        if action == "app_roles":
            return HandoverEvent(
                raw=item,
                standby=standby,
                page_id=page_id,
                sender_id=_need_sender(sender),
                recipient_id=recipient,
                timestamp=ts,
                action=action,
                app_roles=_app_roles(value),
            )
        data = _obj(value, action)
        return HandoverEvent(
            raw=item,
            standby=standby,
            page_id=page_id,
            sender_id=_need_sender(sender),
            recipient_id=recipient,
            timestamp=ts,
            action=action,
            new_owner_app_id=_opt_id(data, "new_owner_app_id"),
            previous_owner_app_id=_opt_id(data, "previous_owner_app_id"),
            requested_owner_app_id=_opt_id(data, "requested_owner_app_id"),
            metadata=_opt_str(data, "metadata"),
        )

    return build


def _policy(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    data = _obj(value, "policy-enforcement")
    return PolicyEnforcementEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=sender,
        recipient_id=recipient,
        timestamp=ts,
        action=_req_str(data, "action"),
        reason=_opt_str(data, "reason"),
    )


def _game_play(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    data = _obj(value, "game_play")
    return GamePlayEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        game_id=_req_id(data, "game_id"),
        player_id=_opt_id(data, "player_id"),
        context_type=_opt_str(data, "context_type"),
        context_id=_opt_id(data, "context_id"),
        score=_opt_number(data, "score"),
        payload=_opt_str(data, "payload"),
    )


def _message_edit(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    data = _obj(value, "message_edit")
    num_edit = data.get("num_edit")
    if num_edit is not None and type(num_edit) is not int:
        raise _BrokenError("num_edit must be an integer")
    return MessageEditEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        mid=_req_str(data, "mid"),
        text=_opt_str(data, "text"),
        num_edit=num_edit,
    )


#: Item key -> builder, in the order keys are looked for.
_BUILDERS: tuple[tuple[str, _Builder], ...] = (
    ("message", _message),
    ("postback", _postback),
    ("delivery", _delivery),
    ("read", _read),
    ("optin", _optin),
    ("reaction", _reaction),
    ("referral", _referral_event),
    ("account_linking", _account_linking),
    ("pass_thread_control", _handover("pass_thread_control")),
    ("take_thread_control", _handover("take_thread_control")),
    ("request_thread_control", _handover("request_thread_control")),
    ("app_roles", _handover("app_roles")),
    ("policy-enforcement", _policy),
    ("game_play", _game_play),
    ("message_edit", _message_edit),
)

#: The item keys fmc types, in lookup order.
KNOWN_KEYS: tuple[str, ...] = tuple(key for key, _ in _BUILDERS)


def _lenient(item: dict[str, Any], key: str) -> str | None:
    try:
        return _party(item, key)
    except _BrokenError:
        return None


def _unknown(item: dict[str, Any], page_id: str | None, standby: bool, reason: str) -> UnknownEvent:
    try:
        ts: datetime | None = _millis(item.get("timestamp"), "timestamp")
    except _BrokenError:
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


def parse_item(item: dict[str, Any], page_id: str | None, *, standby: bool = False) -> Event:
    """Build the event for one ``messaging`` (or ``standby``) item.

    Args:
        item: The item as decoded from JSON.
        page_id: The ``id`` of its entry (``None`` when the entry had none).
        standby: Whether the item came from ``entry[].standby``.

    Returns:
        The typed event, or an :class:`UnknownEvent` naming what was wrong.
    """
    for key, builder in _BUILDERS:  # noqa: B007 - the loop finds the builder
        if key in item:
            break
    else:
        return _unknown(item, page_id, standby, "unknown event kind")
    try:
        if page_id is None:
            raise _BrokenError("the entry has no id")
        recipient = _party(item, "recipient")
        if recipient is None:
            raise _BrokenError("recipient.id is missing")
        return builder(
            item,
            item[key],
            page_id,
            _party(item, "sender"),
            recipient,
            _millis(item.get("timestamp"), "timestamp"),
            standby,
        )
    except _BrokenError as exc:
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
            events.append(parse_item(item, page_id, standby=standby))
    if not found:
        events.append(
            UnknownEvent(raw=entry, page_id=page_id, reason="entry without messaging items")
        )


def parse_data(data: Any, *, objects: Collection[str] = DEFAULT_OBJECTS) -> list[Event]:
    """Parse an already decoded body; see :func:`parse_delivery`.

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


def parse_delivery(
    body: bytes | str | Mapping[str, Any], *, objects: Collection[str] = DEFAULT_OBJECTS
) -> list[Event]:
    """Parse a webhook body (raw bytes, text or decoded dict) into events, in order.

    This does not check the signature; :meth:`WebhookHandler.handle` does both.

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
