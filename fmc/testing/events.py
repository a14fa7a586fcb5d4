"""Webhook events as Meta sends them, one ``messaging`` item each, for testing webhook handlers.

Each builder returns one event in Meta's shape; :func:`~fmc.testing.signed_delivery`
wraps events in a delivery and signs it. Timestamps may be aware datetimes or
epoch milliseconds; when left out they are the current time. Message ids left
out are derived from the event's content, so building the same event twice
gives the same ``mid`` (as a redelivery has).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fmc.convert import millis_from_datetime
from fmc.testing.fake_graph import DEFAULT_PAGE_ID

__all__ = [
    "Event",
    "Timestamp",
    "delivery_event",
    "echo_event",
    "epoch_millis",
    "message_event",
    "optin_event",
    "policy_enforcement_event",
    "postback_event",
    "reaction_event",
    "read_event",
    "referral_event",
]

#: When something happened: an aware datetime, epoch milliseconds, or ``None`` for now.
Timestamp = datetime | int | None
#: One ``messaging`` item.
Event = Mapping[str, Any]


def epoch_millis(value: Timestamp) -> int:
    """Epoch milliseconds of an aware datetime or of epoch milliseconds; now for ``None``."""
    if value is None:
        return time.time_ns() // 1_000_000
    if isinstance(value, datetime):
        return millis_from_datetime(value)
    return int(value)


def _mid(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()
    return "m_" + digest[:40]


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that have a value (not ``None``), in the order given."""
    return {key: value for key, value in fields.items() if value is not None}


def _envelope(
    sender: str | None, recipient: str, timestamp: Timestamp, key: str, value: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {}
    if sender is not None:
        event["sender"] = {"id": sender}
    event["recipient"] = {"id": recipient}
    event["timestamp"] = epoch_millis(timestamp)
    event[key] = value
    return event


def message_event(
    psid: str,
    text: str | None = None,
    *,
    page_id: str = DEFAULT_PAGE_ID,
    timestamp: Timestamp = None,
    mid: str | None = None,
    quick_reply_payload: str | None = None,
    attachments: Sequence[Mapping[str, Any]] | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    """A person's message to the Page (``messages``).

    Args:
        psid: The sender's PSID.
        text: The text (``None`` for an attachment-only message).
        page_id: The Page's id.
        timestamp: When it was sent.
        mid: The message id (derived from the content when ``None``).
        quick_reply_payload: The payload of the quick reply tapped.
        attachments: ``[{"type": "image", "payload": {"url": ...}}, ...]``.
        reply_to: The ``mid`` this message replies to.

    Returns:
        The ``messaging`` item.
    """
    millis = epoch_millis(timestamp)
    message = _given(
        mid=mid or _mid("message", psid, page_id, millis, text),
        text=text,
        quick_reply=None if quick_reply_payload is None else {"payload": quick_reply_payload},
        attachments=None if attachments is None else [dict(item) for item in attachments],
        reply_to=None if reply_to is None else {"mid": reply_to},
    )
    return _envelope(psid, page_id, millis, "message", message)


def echo_event(
    psid: str,
    text: str,
    *,
    page_id: str = DEFAULT_PAGE_ID,
    timestamp: Timestamp = None,
    mid: str | None = None,
    app_id: str | None = "1517776481860111",
    metadata: str | None = None,
) -> dict[str, Any]:
    """The echo of a message the Page sent (``message_echoes``): sender is the Page.

    Args:
        psid: The person the Page wrote to.
        text: The text sent.
        page_id: The Page's id.
        timestamp: When it was sent.
        mid: The message id (derived from the content when ``None``).
        app_id: The app that sent it (``None``: sent from the Page inbox by a human).
        metadata: The ``metadata`` given with the send.

    Returns:
        The ``messaging`` item.
    """
    millis = epoch_millis(timestamp)
    message = _given(
        is_echo=True,
        app_id=int(app_id) if app_id is not None and app_id.isdigit() else app_id,
        metadata=metadata,
        mid=mid or _mid("echo", psid, page_id, millis, text),
        text=text,
    )
    return _envelope(page_id, psid, millis, "message", message)


def postback_event(
    psid: str,
    payload: str,
    *,
    title: str = "Get Started",
    page_id: str = DEFAULT_PAGE_ID,
    timestamp: Timestamp = None,
    mid: str | None = None,
    referral: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A tap on a postback button or Get Started (``messaging_postbacks``).

    Args:
        psid: The person's PSID.
        payload: The button's payload.
        title: The button's title.
        page_id: The Page's id.
        timestamp: When it was tapped.
        mid: The postback's message id (derived when ``None``).
        referral: A referral that came with it (m.me link, ad).

    Returns:
        The ``messaging`` item.
    """
    millis = epoch_millis(timestamp)
    postback: dict[str, Any] = {
        "title": title,
        "payload": payload,
        "mid": mid or _mid("postback", psid, page_id, millis, payload),
    }
    if referral is not None:
        postback["referral"] = dict(referral)
    return _envelope(psid, page_id, millis, "postback", postback)


def optin_event(
    psid: str | None,
    *,
    type: str = "notification_messages",
    page_id: str = DEFAULT_PAGE_ID,
    timestamp: Timestamp = None,
    payload: str | None = None,
    title: str | None = None,
    token: str | None = None,
    frequency: str | None = None,
    timezone: str | None = None,
    token_expiry: Timestamp = None,
    user_token_status: str | None = None,
    notification_status: str | None = None,
    ref: str | None = None,
    user_ref: str | None = None,
) -> dict[str, Any]:
    """An opt-in (``messaging_optins``): a plugin, a one-time notification or marketing messages.

    Args:
        psid: The person's PSID (``None`` for a checkbox plugin, identified by ``user_ref``).
        type: ``"notification_messages"`` (recurring/marketing messages),
            ``"one_time_notif_req"`` (one-time notification) or ``"plugin"``
            (send-to-Messenger or checkbox plugin: only ``ref``/``user_ref``).
        page_id: The Page's id.
        timestamp: When the person opted in.
        payload: The payload of the opt-in request.
        title: The title of the opt-in request.
        token: The ``notification_messages_token`` or ``one_time_notif_token``.
        frequency: ``DAILY``, ``WEEKLY`` or ``MONTHLY`` (notification messages).
        timezone: The person's timezone, e.g. ``"UTC"``.
        token_expiry: When the token expires.
        user_token_status: ``REFRESHED`` or ``NOT_REFRESHED``.
        notification_status: ``"STOP NOTIFICATIONS"`` or ``"RESUME NOTIFICATIONS"``.
        ref: The plugin's ``data-ref``.
        user_ref: The checkbox plugin's ``user_ref``.

    Returns:
        The ``messaging`` item.

    Raises:
        ValueError: an unknown ``type``.
    """
    millis = epoch_millis(timestamp)
    optin: dict[str, Any] = {}
    if type == "plugin":
        pass
    elif type == "one_time_notif_req":
        optin["type"] = type
        optin["payload"] = payload or ""
        optin["one_time_notif_token"] = token or _mid("otn", psid, page_id, millis)[2:]
    elif type == "notification_messages":
        optin = _given(
            type=type,
            payload=payload or "",
            title=title,
            notification_messages_token=token or _mid("nm", psid, page_id, millis)[2:],
            notification_messages_frequency=frequency,
            notification_messages_timezone=timezone,
            token_expiry_timestamp=None if token_expiry is None else epoch_millis(token_expiry),
            user_token_status=user_token_status,
            notification_messages_status=notification_status,
        )
    else:
        raise ValueError(
            f"optin type must be notification_messages, one_time_notif_req or plugin, not {type!r}"
        )
    optin.update(_given(ref=ref, user_ref=user_ref))
    return _envelope(psid, page_id, millis, "optin", optin)


def read_event(
    psid: str,
    watermark: Timestamp,
    *,
    page_id: str = DEFAULT_PAGE_ID,
    timestamp: Timestamp = None,
) -> dict[str, Any]:
    """The person read the Page's messages up to ``watermark`` (``message_reads``).

    Args:
        psid: The person's PSID.
        watermark: Every message sent before this time was read.
        page_id: The Page's id.
        timestamp: When they read it.

    Returns:
        The ``messaging`` item.
    """
    return _envelope(psid, page_id, timestamp, "read", {"watermark": epoch_millis(watermark)})


def delivery_event(
    psid: str,
    watermark: Timestamp,
    *,
    mids: Sequence[str] | None = None,
    page_id: str = DEFAULT_PAGE_ID,
    timestamp: Timestamp = None,
) -> dict[str, Any]:
    """The Page's messages reached the person's device (``message_deliveries``).

    Args:
        psid: The person's PSID.
        watermark: Every message sent before this time was delivered.
        mids: The ids of the messages delivered (Meta may leave them out).
        page_id: The Page's id.
        timestamp: When they were delivered.

    Returns:
        The ``messaging`` item.
    """
    delivery = _given(mids=None if mids is None else list(mids), watermark=epoch_millis(watermark))
    return _envelope(psid, page_id, timestamp, "delivery", delivery)


def reaction_event(
    psid: str,
    mid: str,
    *,
    reaction: str = "love",
    emoji: str = "\u2764\ufe0f",
    action: str = "react",
    page_id: str = DEFAULT_PAGE_ID,
    timestamp: Timestamp = None,
) -> dict[str, Any]:
    """The person reacted to a message, or took a reaction back (``message_reactions``).

    Args:
        psid: The person's PSID.
        mid: The message reacted to.
        reaction: ``smile``, ``angry``, ``sad``, ``wow``, ``love``, ``like``,
            ``dislike`` or ``other``.
        emoji: The emoji.
        action: ``react`` or ``unreact``.
        page_id: The Page's id.
        timestamp: When they reacted.

    Returns:
        The ``messaging`` item.
    """
    body: dict[str, Any] = {"mid": mid, "action": action}
    if action == "react":
        body["reaction"] = reaction
        body["emoji"] = emoji
    return _envelope(psid, page_id, timestamp, "reaction", body)


def referral_event(
    psid: str,
    ref: str | None,
    *,
    source: str = "SHORTLINK",
    type: str = "OPEN_THREAD",
    ad_id: str | None = None,
    referer_uri: str | None = None,
    page_id: str = DEFAULT_PAGE_ID,
    timestamp: Timestamp = None,
) -> dict[str, Any]:
    """The person came to an existing thread from an m.me link, an ad or a plugin.

    Args:
        psid: The person's PSID.
        ref: The ``ref`` parameter of the link.
        source: ``SHORTLINK``, ``ADS``, ``CUSTOMER_CHAT_PLUGIN`` …
        type: ``OPEN_THREAD``.
        ad_id: The ad, for ``ADS``.
        referer_uri: The page the plugin was on, for plugins.
        page_id: The Page's id.
        timestamp: When they came.

    Returns:
        The ``messaging`` item.
    """
    referral = _given(ref=ref, source=source, type=type, ad_id=ad_id, referer_uri=referer_uri)
    return _envelope(psid, page_id, timestamp, "referral", referral)


def policy_enforcement_event(
    *,
    action: str = "block",
    reason: str | None = "The bot violated our Platform Policies.",
    page_id: str = DEFAULT_PAGE_ID,
    timestamp: Timestamp = None,
) -> dict[str, Any]:
    """Meta blocked or unblocked the Page's messaging (``messaging_policy_enforcement``).

    Args:
        action: ``block`` or ``unblock``.
        reason: Meta's explanation (given for ``block``).
        page_id: The Page's id.
        timestamp: When Meta acted.

    Returns:
        The ``messaging`` item (note the hyphenated key ``policy-enforcement``).
    """
    body: dict[str, Any] = {"action": action}
    if reason is not None and action == "block":
        body["reason"] = reason
    return _envelope(None, page_id, timestamp, "policy-enforcement", body)
