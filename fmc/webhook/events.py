"""Typed webhook events: one frozen attrs class per Messenger event kind.

Every event keeps ``raw``, the ``messaging`` (or ``standby``) item it was built
from, and ``standby``, true when it arrived under ``entry[].standby`` (a thread
another app owns). Events built from a well-formed envelope derive from
:class:`MessagingEvent` and carry ``page_id``, ``sender_id``, ``recipient_id``
and ``timestamp`` (an aware UTC datetime). :class:`PolicyEnforcementEvent`
comes without a sender, and :class:`UnknownEvent` holds whatever fmc could not
type, with the reason, so nothing Meta sends is ever dropped.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import Any, ClassVar

import attrs

from fmc.webhook.parts import Coordinates, ReceivedAttachment, Referral

__all__ = [
    "AccountLinkingEvent",
    "Coordinates",
    "DeliveryEvent",
    "EchoEvent",
    "Event",
    "GamePlayEvent",
    "HandoverEvent",
    "MessageEditEvent",
    "MessageEvent",
    "MessagingEvent",
    "OptinEvent",
    "PolicyEnforcementEvent",
    "PostbackEvent",
    "ReactionEvent",
    "ReadEvent",
    "ReceivedAttachment",
    "Referral",
    "ReferralEvent",
    "UnknownEvent",
]


@attrs.frozen(kw_only=True)
class Event:
    """Base of every webhook event.

    Attributes:
        raw: The ``messaging`` / ``standby`` item (or other entry part) as received.
        standby: True when the event came from ``entry[].standby``.
    """

    #: The subscription field name of the kind (``messages``, ``message_reads`` ...).
    kind: ClassVar[str] = "unknown"

    raw: dict[str, Any] = attrs.field(repr=False, eq=False)
    standby: bool = False

    @property
    def ours_to_answer(self) -> bool:
        """Whether this app may answer, i.e. the event came in ``messaging[]``, not ``standby[]``.

        Under Conversation Routing an app also receives, as ``standby``, the
        threads another app owns; answering those would talk over that app
        (a human in the Page Inbox, say). Receiving a message is not owning
        the thread.
        """
        return not self.standby


@attrs.frozen(kw_only=True)
class MessagingEvent(Event):
    """An event with the full ``messaging`` envelope.

    Attributes:
        page_id: The ``entry[].id`` the event came under.
        sender_id: ``sender.id`` (a PSID, or the Page for echoes).
        recipient_id: ``recipient.id``.
        timestamp: ``timestamp``, aware UTC.
    """

    page_id: str
    sender_id: str
    recipient_id: str
    timestamp: datetime


@attrs.frozen(kw_only=True)
class MessageEvent(MessagingEvent):
    """A person sent the Page a message (``messages``).

    Attributes:
        mid: The message id.
        text: The text, if any.
        quick_reply_payload: The payload of the quick reply tapped, if any.
        attachments: Attachments in order (a sticker arrives as a ``sticker``
            attachment with ``sticker_id``; until 30 August 2026 also as an
            ``image``).
        reply_to_mid: The message this one replies to.
        metadata: ``metadata`` set by the sending app, if any.
        referral: Where the message came from, when it is the first message
            after a Click-to-Messenger ad or a link (``ad_id``, ``ref``,
            ``source``, ``type``); read from ``message.referral`` or the
            item's ``referral``.
    """

    kind: ClassVar[str] = "messages"

    mid: str
    text: str | None = None
    quick_reply_payload: str | None = None
    attachments: tuple[ReceivedAttachment, ...] = ()
    reply_to_mid: str | None = None
    metadata: str | None = None
    referral: Referral | None = None

    @property
    def from_ad(self) -> bool:
        """True when the message is the person's first from a Click-to-Messenger ad.

        Such a message carries a ``referral`` whose ``source`` is ``ADS``; Meta
        then allows answering for up to 7 days rather than 24 hours.
        """
        return self.referral is not None and self.referral.source == "ADS"


@attrs.frozen(kw_only=True)
class EchoEvent(MessagingEvent):
    """A message the Page sent, echoed back (``message_echoes``; sender is the Page).

    Attributes:
        mid: The message id.
        app_id: The app that sent it (``None`` for the Page inbox).
        text: The text, if any.
        attachments: Attachments in order.
        metadata: ``metadata`` set by the sending app.
        quick_reply_payload: ``quick_reply.payload`` when echoed.
    """

    kind: ClassVar[str] = "message_echoes"

    mid: str
    app_id: str | None = None
    text: str | None = None
    attachments: tuple[ReceivedAttachment, ...] = ()
    metadata: str | None = None
    quick_reply_payload: str | None = None


@attrs.frozen(kw_only=True)
class DeliveryEvent(MessagingEvent):
    """Messages sent by the Page were delivered (``message_deliveries``).

    Attributes:
        watermark: Every message sent before this time was delivered.
        mids: The delivered message ids (Meta may leave them out).
    """

    kind: ClassVar[str] = "message_deliveries"

    watermark: datetime
    mids: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class ReadEvent(MessagingEvent):
    """The person read the Page's messages (``message_reads``).

    Attributes:
        watermark: Every message sent before this time was read.
    """

    kind: ClassVar[str] = "message_reads"

    watermark: datetime


@attrs.frozen(kw_only=True)
class PostbackEvent(MessagingEvent):
    """The person tapped a postback button, Get Started or a menu item (``messaging_postbacks``).

    Attributes:
        payload: The button's payload.
        title: The button's title.
        mid: The postback's message id (v11.0 and later).
        referral: Set when the thread was opened from a referral.
    """

    kind: ClassVar[str] = "messaging_postbacks"

    payload: str | None = None
    title: str | None = None
    mid: str | None = None
    referral: Referral | None = None


@attrs.frozen(kw_only=True)
class OptinEvent(Event):
    """The person opted in (``messaging_optins``).

    Three shapes share the ``optin`` key: the plugin opt-in (``ref``, ``user_ref``),
    the One-Time Notification (``type="one_time_notif_req"``, ``one_time_notif_token``)
    and recurring marketing messages (``type="notification_messages"``,
    ``notification_messages_token`` and its frequency, status and expiry).
    Tokens never appear in ``repr``.

    Attributes:
        page_id: The ``entry[].id``.
        sender_id: ``sender.id``; ``None`` for the checkbox plugin (only ``user_ref``).
        recipient_id: ``recipient.id`` (the Page).
        timestamp: ``timestamp``, aware UTC.
        type: ``None`` for the plugin, ``one_time_notif_req`` or ``notification_messages``.
        ref: The plugin's ``data-ref``.
        user_ref: The checkbox plugin's ``user_ref`` (the sender may then be absent).
        payload: The payload of the opt-in request.
        title: The title of the notification request.
        one_time_notif_token: The single-use OTN token.
        notification_messages_token: The recurring notification token.
        frequency: ``DAILY``, ``WEEKLY`` or ``MONTHLY``.
        status: ``STOP NOTIFICATIONS`` or ``RESUME NOTIFICATIONS`` (absent on a first opt-in).
        token_expiry: When the recurring token expires.
        timezone: The person's timezone for notifications.
        user_token_status: ``REFRESHED`` or ``NOT_REFRESHED``.
    """

    kind: ClassVar[str] = "messaging_optins"

    #: ``status`` when the person stopped the notifications.
    STOP: ClassVar[str] = "STOP NOTIFICATIONS"
    #: ``status`` when the person resumed them.
    RESUME: ClassVar[str] = "RESUME NOTIFICATIONS"

    page_id: str
    sender_id: str | None
    recipient_id: str
    timestamp: datetime
    type: str | None = None
    ref: str | None = None
    user_ref: str | None = attrs.field(default=None, repr=False)
    payload: str | None = None
    title: str | None = None
    one_time_notif_token: str | None = attrs.field(default=None, repr=False)
    notification_messages_token: str | None = attrs.field(default=None, repr=False)
    frequency: str | None = None
    status: str | None = None
    token_expiry: datetime | None = None
    timezone: str | None = None
    user_token_status: str | None = None

    @property
    def stopped(self) -> bool:
        """True when the person asked the Page to stop these notifications."""
        return self.status == self.STOP

    @property
    def resumed(self) -> bool:
        """True when the person asked the Page to resume these notifications."""
        return self.status == self.RESUME


@attrs.frozen(kw_only=True)
class ReferralEvent(MessagingEvent):
    """The person came to an existing thread from a link, ad or plugin (``messaging_referrals``).

    Attributes:
        referral: What the person came from.
    """

    kind: ClassVar[str] = "messaging_referrals"

    referral: Referral

    @property
    def from_ad(self) -> bool:
        """True when the person came from a Click-to-Messenger ad (``source`` ``ADS``).

        Such a referral keeps the window open for up to 7 days.
        """
        return self.referral.source == "ADS"


@attrs.frozen(kw_only=True)
class ReactionEvent(MessagingEvent):
    """The person reacted to a message, or removed a reaction (``message_reactions``).

    Attributes:
        action: ``react`` or ``unreact``.
        mid: The message reacted to.
        reaction: ``smile``, ``angry``, ``sad``, ``wow``, ``love``, ``like``, ``dislike``
            or ``other``.
        emoji: The emoji itself.
    """

    kind: ClassVar[str] = "message_reactions"

    action: str
    mid: str | None = None
    reaction: str | None = None
    emoji: str | None = None


@attrs.frozen(kw_only=True)
class AccountLinkingEvent(MessagingEvent):
    """The person linked or unlinked their account (``messaging_account_linking``).

    Attributes:
        status: ``linked`` or ``unlinked``.
        authorization_code: The code from the linking flow (never in ``repr``).
    """

    kind: ClassVar[str] = "messaging_account_linking"

    status: str
    authorization_code: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class HandoverEvent(Event):
    """Thread control changed hands (``messaging_handovers``).

    Not a :class:`MessagingEvent`: Meta's ``app_roles`` example has no sender
    (roles belong to the Page, not to a person), so ``sender_id`` may be
    ``None``. Under Conversation Routing (2025) ``app_roles`` is legacy.

    Attributes:
        page_id: The ``entry[].id``.
        sender_id: ``sender.id`` (the person), ``None`` for ``app_roles``.
        recipient_id: ``recipient.id`` (the Page).
        timestamp: ``timestamp``, aware UTC.
        action: ``pass_thread_control``, ``take_thread_control``,
            ``request_thread_control`` or ``app_roles``.
        new_owner_app_id: For a pass.
        previous_owner_app_id: For a take, or a pass (``None`` when the
            thread was idle).
        requested_owner_app_id: For a request.
        metadata: The metadata passed along.
        app_roles: For ``app_roles``: app id to its roles.
    """

    kind: ClassVar[str] = "messaging_handovers"

    page_id: str
    sender_id: str | None
    recipient_id: str
    timestamp: datetime
    action: str
    new_owner_app_id: str | None = None
    previous_owner_app_id: str | None = None
    requested_owner_app_id: str | None = None
    metadata: str | None = None
    app_roles: dict[str, tuple[str, ...]] | None = None


@attrs.frozen(kw_only=True)
class PolicyEnforcementEvent(Event):
    """Meta blocked or unblocked the Page's messaging (``messaging_policy_enforcement``).

    The ``policy-enforcement`` item has no sender.

    Attributes:
        page_id: The ``entry[].id``.
        recipient_id: ``recipient.id`` (the Page).
        timestamp: ``timestamp``, aware UTC.
        action: ``block`` or ``unblock``.
        reason: Meta's explanation.
        sender_id: Always ``None`` in the documented shape.
    """

    kind: ClassVar[str] = "messaging_policy_enforcement"

    page_id: str
    recipient_id: str
    timestamp: datetime
    action: str
    reason: str | None = None
    sender_id: str | None = None


@attrs.frozen(kw_only=True)
class GamePlayEvent(MessagingEvent):
    """The person played an Instant Game (``messaging_game_plays``).

    Attributes:
        game_id: The game.
        player_id: The player's Instant Games id.
        context_type: ``SOLO``, ``THREAD`` or ``GROUP``.
        context_id: The thread or group, when not solo.
        score: The best score, when the game reports one.
        payload: The game's payload.
    """

    kind: ClassVar[str] = "messaging_game_plays"

    game_id: str
    player_id: str | None = None
    context_type: str | None = None
    context_id: str | None = None
    score: float | None = None
    payload: str | None = None


@attrs.frozen(kw_only=True)
class MessageEditEvent(MessagingEvent):
    """The person edited a message (``message_edits``).

    Attributes:
        mid: The edited message.
        text: Its new text.
        num_edit: How many times it has been edited.
    """

    kind: ClassVar[str] = "message_edits"

    mid: str
    text: str | None = None
    num_edit: int | None = None


@attrs.frozen(kw_only=True)
class UnknownEvent(Event):
    """Anything fmc could not type: a kind it does not know, or a known kind with a broken shape.

    Whatever envelope fields could be read are set.

    Attributes:
        reason: Why it is unknown (``"unknown event kind"``, or what was broken).
        page_id: ``entry[].id`` when readable.
        sender_id: ``sender.id`` when readable.
        recipient_id: ``recipient.id`` when readable.
        timestamp: ``timestamp`` when readable.
    """

    reason: str = "unknown event kind"
    page_id: str | None = None
    sender_id: str | None = None
    recipient_id: str | None = None
    timestamp: datetime | None = None


def __getattr__(name: str) -> Any:
    if name == "Attachment":  # re-exported here before the rename
        warnings.warn(
            "fmc.webhook.events.Attachment is deprecated and will be removed in the next "
            "release; use fmc.webhook.ReceivedAttachment",
            DeprecationWarning,
            stacklevel=2,
        )
        return ReceivedAttachment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
