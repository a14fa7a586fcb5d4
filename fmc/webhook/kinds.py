"""One builder per event kind: a ``messaging`` item's fields, checked, into its event class.

Builders are plain functions over dicts, checked field by field with ``type() is``,
because they run for every event of every delivery. A field of the wrong shape
raises :class:`ShapeError` naming it; :func:`fmc.webhook.parse.parse_item` turns
that into an :class:`~fmc.webhook.events.UnknownEvent` carrying the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

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
    ShapeError,
    millis,
    need_sender,
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
    "ShapeError",
    "millis",
    "party",
]


#: A builder takes (item, value of its key, page_id, sender, recipient, timestamp, standby).
Builder = Callable[[dict[str, Any], Any, str, "str | None", str, datetime, bool], Event]


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
        raise ShapeError("message must be an object")
    mid = value.get("mid")
    if type(mid) is not str:
        raise ShapeError("mid must be a string")
    text = value.get("text")
    if text is not None and type(text) is not str:
        raise ShapeError("text must be a string")
    sender_id = need_sender(sender)
    if value.get("is_echo") is True:
        return EchoEvent(
            raw=item,
            standby=standby,
            page_id=page_id,
            sender_id=sender_id,
            recipient_id=recipient,
            timestamp=ts,
            mid=mid,
            app_id=opt_id(value, "app_id"),
            text=text,
            attachments=read_attachments(value),
            metadata=opt_str(value, "metadata"),
            quick_reply_payload=read_quick_reply_payload(value),
        )
    reply_to = value.get("reply_to")
    # An ad's referral rides inside the message, or beside it in the item.
    referral = value.get("referral", item.get("referral"))
    return MessageEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=sender_id,
        recipient_id=recipient,
        timestamp=ts,
        mid=mid,
        text=text,
        quick_reply_payload=None if "quick_reply" not in value else read_quick_reply_payload(value),
        attachments=() if "attachments" not in value else read_attachments(value),
        reply_to_mid=None if reply_to is None else opt_str(obj(reply_to, "reply_to"), "mid"),
        metadata=None if "metadata" not in value else opt_str(value, "metadata"),
        referral=None if referral is None else read_referral(referral),
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
    data = obj(value, "delivery")
    mids = data.get("mids")
    if mids is None:
        mids = ()
    elif type(mids) is not list or any(type(mid) is not str for mid in mids):
        raise ShapeError("mids must be a list of strings")
    return DeliveryEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        watermark=millis(data.get("watermark"), "watermark"),
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
    data = obj(value, "read")
    return ReadEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        watermark=millis(data.get("watermark"), "watermark"),
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
    data = obj(value, "postback")
    referral = data.get("referral")
    return PostbackEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        payload=opt_str(data, "payload"),
        title=opt_str(data, "title"),
        mid=opt_str(data, "mid"),
        referral=None if referral is None else read_referral(referral),
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
    data = obj(value, "optin")
    return OptinEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=sender,
        recipient_id=recipient,
        timestamp=ts,
        type=opt_str(data, "type"),
        ref=opt_str(data, "ref"),
        user_ref=opt_str(data, "user_ref"),
        payload=opt_str(data, "payload"),
        title=opt_str(data, "title"),
        one_time_notif_token=opt_str(data, "one_time_notif_token"),
        notification_messages_token=opt_str(data, "notification_messages_token"),
        frequency=opt_str(data, "notification_messages_frequency"),
        status=opt_str(data, "notification_messages_status"),
        token_expiry=opt_millis(data, "token_expiry_timestamp"),
        timezone=opt_str(data, "notification_messages_timezone"),
        user_token_status=opt_str(data, "user_token_status"),
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
        sender_id=need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        referral=read_referral(value),
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
    data = obj(value, "reaction")
    return ReactionEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        action=req_str(data, "action"),
        mid=opt_str(data, "mid"),
        reaction=opt_str(data, "reaction"),
        emoji=opt_str(data, "emoji"),
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
    data = obj(value, "account_linking")
    return AccountLinkingEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        status=req_str(data, "status"),
        authorization_code=opt_str(data, "authorization_code"),
    )


def _app_roles(value: Any) -> dict[str, tuple[str, ...]]:
    data = obj(value, "app_roles")
    roles: dict[str, tuple[str, ...]] = {}
    for app_id, app_roles in data.items():
        if type(app_roles) is not list or any(type(role) is not str for role in app_roles):
            raise ShapeError("app_roles values must be lists of strings")
        roles[app_id] = tuple(app_roles)
    return roles


def _handover(action: str) -> Builder:
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
            # Meta's app_roles example has no sender: roles belong to the Page.
            return HandoverEvent(
                raw=item,
                standby=standby,
                page_id=page_id,
                sender_id=sender,
                recipient_id=recipient,
                timestamp=ts,
                action=action,
                app_roles=_app_roles(value),
            )
        data = obj(value, action)
        return HandoverEvent(
            raw=item,
            standby=standby,
            page_id=page_id,
            sender_id=need_sender(sender),
            recipient_id=recipient,
            timestamp=ts,
            action=action,
            new_owner_app_id=opt_id(data, "new_owner_app_id"),
            previous_owner_app_id=opt_id(data, "previous_owner_app_id"),
            requested_owner_app_id=opt_id(data, "requested_owner_app_id"),
            metadata=opt_str(data, "metadata"),
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
    data = obj(value, "policy_enforcement")
    return PolicyEnforcementEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=sender,
        recipient_id=recipient,
        timestamp=ts,
        action=req_str(data, "action"),
        reason=opt_str(data, "reason"),
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
    data = obj(value, "game_play")
    return GamePlayEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        game_id=req_id(data, "game_id"),
        player_id=opt_id(data, "player_id"),
        context_type=opt_str(data, "context_type"),
        context_id=opt_id(data, "context_id"),
        score=opt_number(data, "score"),
        payload=opt_str(data, "payload"),
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
    data = obj(value, "message_edit")
    num_edit = data.get("num_edit")
    if num_edit is not None and type(num_edit) is not int:
        raise ShapeError("num_edit must be an integer")
    return MessageEditEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        mid=req_str(data, "mid"),
        text=opt_str(data, "text"),
        num_edit=num_edit,
    )


#: Item key -> builder, in the order keys are looked for.
BUILDERS: tuple[tuple[str, Builder], ...] = (
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
    # Meta's reference page shows ``policy_enforcement``; older SDKs and payloads
    # seen in the wild use ``policy-enforcement``. Both are the same event.
    ("policy_enforcement", _policy),
    ("policy-enforcement", _policy),
    ("game_play", _game_play),
    ("message_edit", _message_edit),
    ("messaging_feedback", messaging_feedback),
    ("response_feedback", response_feedback),
)

#: The item keys fmc types, in lookup order.
KNOWN_KEYS: tuple[str, ...] = tuple(key for key, _ in BUILDERS)
