"""One builder per event kind: a ``messaging`` item's fields, checked, into its event class.

Builders are plain functions over dicts, checked field by field with ``type() is``,
because they run for every event of every delivery. A field of the wrong shape
raises :class:`ShapeError` naming it; :func:`fmc.webhook.parse.parse_item` turns
that into an :class:`~fmc.webhook.events.UnknownEvent` carrying the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from fmc.webhook.events import (
    AccountLinkingEvent,
    Attachment,
    Coordinates,
    DeliveryEvent,
    EchoEvent,
    Event,
    FeedbackAnswer,
    GamePlayEvent,
    HandoverEvent,
    MessageEditEvent,
    MessageEvent,
    MessagingFeedbackEvent,
    OptinEvent,
    PolicyEnforcementEvent,
    PostbackEvent,
    ReactionEvent,
    ReadEvent,
    Referral,
    ReferralEvent,
    ResponseFeedbackEvent,
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

_UTC = timezone.utc
_fromtimestamp = datetime.fromtimestamp


class ShapeError(Exception):
    """A known event kind with a field of the wrong shape; the message says which."""


#: Epoch values below this are seconds, not milliseconds. Meta documents
#: milliseconds, but some deliveries (and other SDKs' fixtures) carry seconds;
#: read as milliseconds they land in January 1970 and a referral would never
#: open the window. 10**11 ms is March 1973 and 10**11 s is the year 5138, so
#: no real instant of either reading is mistaken for the other.
SECONDS_BELOW = 10**11


def millis(value: Any, name: str) -> datetime:
    """An epoch timestamp as an aware UTC datetime: milliseconds, or seconds when small.

    Values whose magnitude is below :data:`SECONDS_BELOW` are taken as
    seconds (see there why), all others as milliseconds.

    Raises:
        ShapeError: not a number, or out of range.
    """
    kind = type(value)
    if kind is int or kind is float:
        try:
            if -SECONDS_BELOW < value < SECONDS_BELOW:
                return _fromtimestamp(value, _UTC)
            return _fromtimestamp(value / 1000, _UTC)
        except (OverflowError, OSError, ValueError):
            raise ShapeError(f"{name} is out of range") from None
    raise ShapeError(f"{name} must be epoch milliseconds (or seconds)")


def _opt_millis(data: dict[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    return None if value is None else millis(value, key)


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or type(value) is str:
        return value
    raise ShapeError(f"{key} must be a string")


def _req_str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if type(value) is str:
        return value
    raise ShapeError(f"{key} must be a string")


def _opt_id(data: dict[str, Any], key: str) -> str | None:
    """Ids are strings on the wire, but some (``app_id``) arrive as numbers."""
    value = data.get(key)
    kind = type(value)
    if value is None or kind is str:
        return value
    if kind is int:
        return str(value)
    raise ShapeError(f"{key} must be an id")


def _req_id(data: dict[str, Any], key: str) -> str:
    value = _opt_id(data, key)
    if value is None:
        raise ShapeError(f"{key} is missing")
    return value


def _opt_number(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    kind = type(value)
    if value is None or kind is float:
        return value
    if kind is int:
        return float(value)
    raise ShapeError(f"{key} must be a number")


def _obj(value: Any, name: str) -> dict[str, Any]:
    if type(value) is dict:
        return value
    raise ShapeError(f"{name} must be an object")


def party(item: dict[str, Any], key: str) -> str | None:
    """The ``id`` of ``sender`` / ``recipient``, ``None`` when absent.

    Raises:
        ShapeError: the party is not an object, or its id not an id.
    """
    party = item.get(key)
    if party is None:
        return None
    if type(party) is not dict:
        raise ShapeError(f"{key} must be an object")
    return _opt_id(party, "id")


def _coordinates(payload: dict[str, Any]) -> Coordinates | None:
    raw = payload.get("coordinates")
    if raw is None:
        return None
    coords = _obj(raw, "coordinates")
    lat = _opt_number(coords, "lat")
    long = _opt_number(coords, "long")
    if lat is None or long is None:
        raise ShapeError("coordinates need lat and long")
    return Coordinates(lat, long)


def _attachment(raw: Any) -> Attachment:
    att = _obj(raw, "attachment")
    payload_raw = att.get("payload")
    payload = {} if payload_raw is None else _obj(payload_raw, "attachment payload")
    url = _opt_str(payload, "url") or _opt_str(att, "url") or _opt_str(att, "URL")
    # The ``sticker`` attachment (June 2026) carries ``sticker_id``; older
    # image attachments carried it in the payload too.
    sticker = payload.get("sticker_id", att.get("sticker_id"))
    if type(sticker) is str and sticker.isdigit():
        sticker = int(sticker)
    if sticker is not None and type(sticker) is not int:
        raise ShapeError("sticker_id must be an integer")
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
        raise ShapeError("attachments must be a list")
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


#: A builder takes (item, value of its key, page_id, sender, recipient, timestamp, standby).
Builder = Callable[[dict[str, Any], Any, str, "str | None", str, datetime, bool], Event]


def _need_sender(sender: str | None) -> str:
    if sender is None:
        raise ShapeError("sender.id is missing")
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
        raise ShapeError("message must be an object")
    mid = value.get("mid")
    if type(mid) is not str:
        raise ShapeError("mid must be a string")
    text = value.get("text")
    if text is not None and type(text) is not str:
        raise ShapeError("text must be a string")
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
        quick_reply_payload=None if "quick_reply" not in value else _quick_reply_payload(value),
        attachments=() if "attachments" not in value else _attachments(value),
        reply_to_mid=None if reply_to is None else _opt_str(_obj(reply_to, "reply_to"), "mid"),
        metadata=None if "metadata" not in value else _opt_str(value, "metadata"),
        referral=None if referral is None else _referral(referral),
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
        raise ShapeError("mids must be a list of strings")
    return DeliveryEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
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
    data = _obj(value, "read")
    return ReadEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
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
    data = _obj(value, "policy_enforcement")
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
        raise ShapeError("num_edit must be an integer")
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


def _feedback_answers(data: dict[str, Any]) -> tuple[FeedbackAnswer, ...]:
    screens = data.get("feedback_screens")
    if screens is None:
        return ()
    if type(screens) is not list:
        raise ShapeError("feedback_screens must be a list")
    answers = []
    for raw_screen in screens:
        screen = _obj(raw_screen, "feedback screen")
        screen_id = screen.get("screen_id", 0)
        if type(screen_id) is not int:
            raise ShapeError("screen_id must be an integer")
        questions = _obj(screen.get("questions", {}), "questions")
        for question_id, raw_answer in questions.items():
            answer = _obj(raw_answer, "question")
            follow_up = answer.get("follow_up")
            answers.append(
                FeedbackAnswer(
                    screen_id=screen_id,
                    question_id=question_id,
                    type=_req_str(answer, "type"),
                    payload=_opt_str(answer, "payload"),
                    follow_up=None
                    if follow_up is None
                    else _opt_str(_obj(follow_up, "follow_up"), "payload"),
                )
            )
    return tuple(answers)


def _messaging_feedback(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    return MessagingFeedbackEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        answers=_feedback_answers(_obj(value, "messaging_feedback")),
    )


def _response_feedback(
    item: dict[str, Any],
    value: Any,
    page_id: str,
    sender: str | None,
    recipient: str,
    ts: datetime,
    standby: bool,
) -> Event:
    data = _obj(value, "response_feedback")
    return ResponseFeedbackEvent(
        raw=item,
        standby=standby,
        page_id=page_id,
        sender_id=_need_sender(sender),
        recipient_id=recipient,
        timestamp=ts,
        feedback=_req_str(data, "feedback"),
        mid=_opt_str(data, "mid"),
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
    ("messaging_feedback", _messaging_feedback),
    ("response_feedback", _response_feedback),
)

#: The item keys fmc types, in lookup order.
KNOWN_KEYS: tuple[str, ...] = tuple(key for key, _ in BUILDERS)
