"""Send requests and results: one call of the Send API, and Meta's answer."""

from __future__ import annotations

import enum
from typing import Any

import attrs

from fmc.models.limits import ValidationError
from fmc.models.messages import MESSAGE_CLASSES, Message
from fmc.models.recipient import Recipient
from fmc.models.utility import UtilityTemplate

__all__ = [
    "MessageTag",
    "MessagingType",
    "NotificationType",
    "SendRequest",
    "SendResult",
    "SenderAction",
]


class MessagingType(str, enum.Enum):
    """Why a message is sent, as the Send API's ``messaging_type``."""

    #: A reply within the 24-hour window.
    RESPONSE = "RESPONSE"
    #: A proactive message within the 24-hour window.
    UPDATE = "UPDATE"
    #: A tagged message outside the window; needs a :class:`MessageTag`.
    MESSAGE_TAG = "MESSAGE_TAG"
    #: A utility template message (order, account, appointment or event
    #: update), allowed outside the window (Meta's utility messages, 2026).
    UTILITY = "UTILITY"


class MessageTag(str, enum.Enum):
    """The message tags Meta accepts for sending outside the 24-hour window.

    ``NON_PROMOTIONAL_SUBSCRIPTION`` is legacy: Meta retired it on March 4,
    2020 except for Pages in its News Page Index.
    """

    #: A reminder or update for an event the person registered for.
    CONFIRMED_EVENT_UPDATE = "CONFIRMED_EVENT_UPDATE"
    #: An update about a purchase the person made.
    POST_PURCHASE_UPDATE = "POST_PURCHASE_UPDATE"
    #: A non-recurring change to the person's account or application.
    ACCOUNT_UPDATE = "ACCOUNT_UPDATE"
    #: A human agent's reply, up to 7 days after the person's last message.
    HUMAN_AGENT = "HUMAN_AGENT"
    #: A customer feedback survey (with the customer feedback template).
    CUSTOMER_FEEDBACK = "CUSTOMER_FEEDBACK"
    #: Subscription (news) messaging, a legacy tag. Meta stopped it on March 4,
    #: 2020 except for Pages in its News Page Index.
    NON_PROMOTIONAL_SUBSCRIPTION = "NON_PROMOTIONAL_SUBSCRIPTION"


class NotificationType(str, enum.Enum):
    """How the person's phone announces the message."""

    #: Sound or vibration (Meta's default).
    REGULAR = "REGULAR"
    #: A notification without sound or vibration.
    SILENT_PUSH = "SILENT_PUSH"
    #: No notification.
    NO_PUSH = "NO_PUSH"


class SenderAction(str, enum.Enum):
    """A typing indicator or read receipt, sent instead of a message."""

    TYPING_ON = "typing_on"
    TYPING_OFF = "typing_off"
    MARK_SEEN = "mark_seen"


def _recipient(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Recipient):
        raise TypeError(f"SendRequest.recipient must be a Recipient, got {type(value).__name__}")


def _message(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, MESSAGE_CLASSES):
        raise TypeError(
            "SendRequest.message must be a Text, Attachment or template, "
            f"got {type(value).__name__}"
        )


def _sender_action(value: SenderAction | str | None) -> SenderAction | None:
    return None if value is None else SenderAction(value)


def _tag(value: MessageTag | str | None) -> MessageTag | None:
    return None if value is None else MessageTag(value)


def _messaging_type(value: MessagingType | str | None) -> MessagingType | None:
    return None if value is None else MessagingType(value)


def _notification_type(value: NotificationType | str | None) -> NotificationType | None:
    return None if value is None else NotificationType(value)


@attrs.frozen
class SendRequest:
    """One call of the Send API: a message or a sender action for one recipient.

    ``messaging_type`` is derived when not given: ``UTILITY`` for a
    :class:`~fmc.models.UtilityTemplate` (which is always sent so, even when
    ``RESPONSE`` or ``UPDATE`` is given), ``MESSAGE_TAG`` when a tag is
    given, ``RESPONSE`` for a message, and nothing for a bare sender action.
    Enum fields also accept their wire values as strings.

    Attributes:
        recipient: Who the message goes to.
        message: The message; exactly one of ``message`` and ``sender_action``.
        sender_action: A typing indicator or read receipt instead of a message.
        messaging_type: Why the message is sent.
        tag: The message tag, required with (and only with) ``MESSAGE_TAG``.
        notification_type: How the person's phone announces it.
        persona_id: Send as this persona (Persona API).

    Raises:
        ValidationError: Both or neither of ``message`` and ``sender_action``,
            a tag without ``MESSAGE_TAG``, or ``MESSAGE_TAG`` without a tag.
        TypeError: ``recipient`` or ``message`` has the wrong type.
    """

    recipient: Recipient = attrs.field(validator=_recipient)
    message: Message | None = attrs.field(default=None, validator=_message)
    sender_action: SenderAction | None = attrs.field(
        default=None, converter=_sender_action, kw_only=True
    )
    tag: MessageTag | None = attrs.field(default=None, converter=_tag, kw_only=True)
    messaging_type: MessagingType | None = attrs.field(
        default=None, converter=_messaging_type, kw_only=True
    )
    notification_type: NotificationType | None = attrs.field(
        default=None, converter=_notification_type, kw_only=True
    )
    persona_id: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.message is None:
            if self.sender_action is None:
                raise ValidationError("a SendRequest needs a message or a sender_action")
        elif self.sender_action is not None:
            raise ValidationError(
                "a SendRequest takes a message or a sender_action, not both "
                "(Meta refuses both at once)"
            )
        messaging_type = self.messaging_type
        is_utility = isinstance(self.message, UtilityTemplate)
        if is_utility and messaging_type in (None, MessagingType.RESPONSE, MessagingType.UPDATE):
            # Meta takes a template only as UTILITY, inside the window or out.
            messaging_type = MessagingType.UTILITY
            object.__setattr__(self, "messaging_type", messaging_type)
        if (messaging_type is MessagingType.UTILITY) != is_utility:
            raise ValidationError(
                "a UtilityTemplate goes with messaging_type=UTILITY, and only it does "
                f"(got {messaging_type.value if messaging_type else None} and "
                f"{type(self.message).__name__})"
            )
        if messaging_type is None:
            if self.tag is not None:
                messaging_type = MessagingType.MESSAGE_TAG
            elif self.message is not None:
                messaging_type = MessagingType.RESPONSE
            # Frozen: the derived default is set once, here, before anyone sees the instance.
            object.__setattr__(self, "messaging_type", messaging_type)
        elif self.tag is not None and messaging_type is not MessagingType.MESSAGE_TAG:
            raise ValidationError(
                f"SendRequest.tag needs messaging_type=MESSAGE_TAG, got {messaging_type.value}"
            )
        if messaging_type is MessagingType.MESSAGE_TAG and self.tag is None:
            raise ValidationError("messaging_type=MESSAGE_TAG needs a SendRequest.tag")


def _optional_str(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"SendResult.{attribute.name} must be a str, got {type(value).__name__}")


@attrs.frozen
class SendResult:
    """Meta's answer to a successful send.

    Attributes:
        recipient_id: The PSID the message went to; Meta omits it for
            ``user_ref`` recipients.
        message_id: The id of the sent message (``mid``); absent for sender
            actions.
    """

    recipient_id: str | None = attrs.field(default=None, validator=_optional_str)
    message_id: str | None = attrs.field(default=None, validator=_optional_str)
