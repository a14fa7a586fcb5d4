"""One builder per event kind: a ``messaging`` item's own fields, checked, for its event class.

A builder reads only what its kind adds (``message.mid``, ``read.watermark``
...) and returns the event class with those fields; the envelope every event
shares (``raw``, ``standby``, ``page_id``, ``sender_id``, ``recipient_id``,
``timestamp``) is read once, by :func:`fmc.webhook.parse.parse_item`, which
also requires a sender for the kinds :data:`BUILDERS` marks so. Builders are
plain functions over dicts, checked field by field with ``type() is``, because
they run for every event of every delivery. A field of the wrong shape raises
:class:`ShapeError` naming it; ``parse_item`` turns that into an
:class:`~fmc.webhook.events.UnknownEvent` carrying the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from fmc.webhook.events import (
    AccountLinkingEvent,
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
    ReferralEvent,
)
from fmc.webhook.feedback import messaging_feedback, response_feedback
from fmc.webhook.parts import read_attachments, read_quick_reply_payload, read_referral
from fmc.webhook.shape import (
    SECONDS_BELOW,
    Fields,
    ShapeError,
    millis,
    obj,
    opt_id,
    opt_millis,
    opt_number,
    opt_str,
    party,
    req_id,
    req_str,
)

__all__ = [
    "BUILDERS",
    "KNOWN_KEYS",
    "SECONDS_BELOW",
    "Builder",
    "Kind",
    "ShapeError",
    "millis",
    "party",
]


#: A builder takes the item and the value of its key; it returns the event class and its own fields.
Builder = Callable[[dict[str, Any], Any], Fields]


class Kind(NamedTuple):
    """One event kind: the item key that marks it, its builder, and whether it needs a sender."""

    key: str
    build: Builder
    needs_sender: bool = True


def _message(item: dict[str, Any], value: Any) -> Fields:
    # The hot path: only fields present in the item are passed (the others keep
    # their defaults), because every keyword costs in the event's __init__.
    if type(value) is not dict:
        raise ShapeError("message must be an object")
    mid = value.get("mid")
    if type(mid) is not str:
        raise ShapeError("mid must be a string")
    fields: dict[str, Any] = {"mid": mid}
    text = value.get("text")
    if text is not None:
        if type(text) is not str:
            raise ShapeError("text must be a string")
        fields["text"] = text
    if "attachments" in value:
        fields["attachments"] = read_attachments(value)
    if "quick_reply" in value:
        fields["quick_reply_payload"] = read_quick_reply_payload(value)
    if "metadata" in value:
        fields["metadata"] = opt_str(value, "metadata")
    if value.get("is_echo") is True:
        if "app_id" in value:
            fields["app_id"] = opt_id(value, "app_id")
        return EchoEvent, fields
    reply_to = value.get("reply_to")
    if reply_to is not None:
        fields["reply_to_mid"] = opt_str(obj(reply_to, "reply_to"), "mid")
    # An ad's referral rides inside the message, or beside it in the item.
    referral = value.get("referral", item.get("referral"))
    if referral is not None:
        fields["referral"] = read_referral(referral)
    return MessageEvent, fields


def _delivery(item: dict[str, Any], value: Any) -> Fields:
    data = obj(value, "delivery")
    mids = data.get("mids")
    if mids is None:
        mids = ()
    elif type(mids) is not list or any(type(mid) is not str for mid in mids):
        raise ShapeError("mids must be a list of strings")
    return DeliveryEvent, {
        "watermark": millis(data.get("watermark"), "watermark"),
        "mids": tuple(mids),
    }


def _read(item: dict[str, Any], value: Any) -> Fields:
    data = obj(value, "read")
    return ReadEvent, {"watermark": millis(data.get("watermark"), "watermark")}


def _postback(item: dict[str, Any], value: Any) -> Fields:
    data = obj(value, "postback")
    fields: dict[str, Any] = {
        key: opt_str(data, key) for key in ("payload", "title", "mid") if key in data
    }
    referral = data.get("referral")
    if referral is not None:
        fields["referral"] = read_referral(referral)
    return PostbackEvent, fields


#: Optin field -> its wire key, in the order they are read.
_OPTIN_FIELDS = (
    ("type", "type"),
    ("ref", "ref"),
    ("user_ref", "user_ref"),
    ("payload", "payload"),
    ("title", "title"),
    ("one_time_notif_token", "one_time_notif_token"),
    ("notification_messages_token", "notification_messages_token"),
    ("frequency", "notification_messages_frequency"),
    ("status", "notification_messages_status"),
    ("timezone", "notification_messages_timezone"),
    ("user_token_status", "user_token_status"),
)


def _optin(item: dict[str, Any], value: Any) -> Fields:
    data = obj(value, "optin")
    fields: dict[str, Any] = {name: opt_str(data, key) for name, key in _OPTIN_FIELDS}
    fields["token_expiry"] = opt_millis(data, "token_expiry_timestamp")
    return OptinEvent, fields


def _referral_event(item: dict[str, Any], value: Any) -> Fields:
    return ReferralEvent, {"referral": read_referral(value)}


#: Each field of a kind and its reader, ``(data, key) -> value``, which raises ShapeError.
Readers = tuple[tuple[str, Callable[[dict[str, Any], str], Any]], ...]


def _flat(kind: str, event: Callable[..., Event], readers: Readers) -> Builder:
    """The builder of a kind whose fields are its object's keys of the same names, read as given."""

    def build(item: dict[str, Any], value: Any) -> Fields:
        data = obj(value, kind)
        return event, {key: read(data, key) for key, read in readers}

    return build


_reaction = _flat(
    "reaction",
    ReactionEvent,
    (("action", req_str), ("mid", opt_str), ("reaction", opt_str), ("emoji", opt_str)),
)
_account_linking = _flat(
    "account_linking",
    AccountLinkingEvent,
    (("status", req_str), ("authorization_code", opt_str)),
)


def _app_roles(item: dict[str, Any], value: Any) -> Fields:
    data = obj(value, "app_roles")
    roles: dict[str, tuple[str, ...]] = {}
    for app_id, app_roles in data.items():
        if type(app_roles) is not list or any(type(role) is not str for role in app_roles):
            raise ShapeError("app_roles values must be lists of strings")
        roles[app_id] = tuple(app_roles)
    return HandoverEvent, {"action": "app_roles", "app_roles": roles}


def _handover(action: str) -> Builder:
    def build(item: dict[str, Any], value: Any) -> Fields:
        data = obj(value, action)
        return HandoverEvent, {
            "action": action,
            "new_owner_app_id": opt_id(data, "new_owner_app_id"),
            "previous_owner_app_id": opt_id(data, "previous_owner_app_id"),
            "requested_owner_app_id": opt_id(data, "requested_owner_app_id"),
            "metadata": opt_str(data, "metadata"),
        }

    return build


_policy = _flat(
    "policy_enforcement", PolicyEnforcementEvent, (("action", req_str), ("reason", opt_str))
)
_game_play = _flat(
    "game_play",
    GamePlayEvent,
    (
        ("game_id", req_id),
        ("player_id", opt_id),
        ("context_type", opt_str),
        ("context_id", opt_id),
        ("score", opt_number),
        ("payload", opt_str),
    ),
)


def _message_edit(item: dict[str, Any], value: Any) -> Fields:
    data = obj(value, "message_edit")
    num_edit = data.get("num_edit")
    if num_edit is not None and type(num_edit) is not int:
        raise ShapeError("num_edit must be an integer")
    return MessageEditEvent, {
        "mid": req_str(data, "mid"),
        "text": opt_str(data, "text"),
        "num_edit": num_edit,
    }


#: The kinds fmc types, in the order their keys are looked for.
BUILDERS: tuple[Kind, ...] = (
    Kind("message", _message),
    Kind("postback", _postback),
    Kind("delivery", _delivery),
    Kind("read", _read),
    # An opt-in from the checkbox plugin names the person by user_ref, with no sender.
    Kind("optin", _optin, needs_sender=False),
    Kind("reaction", _reaction),
    Kind("referral", _referral_event),
    Kind("account_linking", _account_linking),
    Kind("pass_thread_control", _handover("pass_thread_control")),
    Kind("take_thread_control", _handover("take_thread_control")),
    Kind("request_thread_control", _handover("request_thread_control")),
    # Meta's app_roles example has no sender: roles belong to the Page.
    Kind("app_roles", _app_roles, needs_sender=False),
    # Meta's reference page shows ``policy_enforcement``; older SDKs and payloads
    # seen in the wild use ``policy-enforcement``. Both are the same event, sent
    # about the Page, with no sender.
    Kind("policy_enforcement", _policy, needs_sender=False),
    Kind("policy-enforcement", _policy, needs_sender=False),
    Kind("game_play", _game_play),
    Kind("message_edit", _message_edit),
    Kind("messaging_feedback", messaging_feedback),
    Kind("response_feedback", response_feedback),
)

#: The item keys fmc types, in lookup order.
KNOWN_KEYS: tuple[str, ...] = tuple(kind.key for kind in BUILDERS)
