"""The policy's answer: may this be sent, and how."""

from __future__ import annotations

from typing import Any

import attrs

from fmc.models.recipient import Recipient
from fmc.models.send import MessageTag, MessagingType
from fmc.models.subscriber import NotificationToken

__all__ = ["Decision"]


def _check(instance: Decision, _attribute: attrs.Attribute[Any], _value: Any) -> None:
    if not instance.reason:
        raise ValueError("a Decision needs a reason")
    if not instance.rule:
        raise ValueError("a Decision needs a rule identifier")
    if not instance.allowed:
        if (
            instance.messaging_type,
            instance.tag,
            instance.recipient,
            instance.token,
            instance.template,
        ) != (None, None, None, None, None):
            raise ValueError(
                "a refusal carries no messaging_type, tag, recipient, token or template"
            )
        return
    if instance.messaging_type is None or instance.recipient is None:
        raise ValueError("an allowed Decision needs a messaging_type and a recipient")
    if (instance.messaging_type is MessagingType.MESSAGE_TAG) != (instance.tag is not None):
        raise ValueError("a tag goes with messaging_type MESSAGE_TAG, and only with it")
    if (instance.messaging_type is MessagingType.UTILITY) != (instance.template is not None):
        raise ValueError("a template goes with messaging_type UTILITY, and only with it")


@attrs.frozen
class Decision:
    """Whether a message may be sent to a subscriber, and how to send it.

    An allowed decision always carries a ``messaging_type`` and a
    ``recipient``, and a ``tag`` exactly when the type is ``MESSAGE_TAG``; a
    refusal carries none of them. Both carry a human ``reason`` and a short,
    stable ``rule`` code, so reports can group skips by rule.

    Attributes:
        allowed: Whether the send is allowed.
        messaging_type: The Send API ``messaging_type`` to use.
        tag: The message tag, when ``messaging_type`` is ``MESSAGE_TAG``.
        recipient: The PSID, or the notification token to send to.
        reason: A sentence a person can read, e.g. ``"last interaction 31 h
            ago; outside the 24 h window; NEWS needs
            pages_messaging_subscriptions or a notification token"``.
        token: The notification token used, if the recipient is a token (a
            one-time token is spent by the send).
        rule: The rule that decided, e.g. ``"inside_window"``,
            ``"utility_template"``, ``"outside_window_no_subscription"``,
            ``"blocked"``.
        template: The name of the Page's utility template to send, exactly
            when ``messaging_type`` is ``UTILITY``; the caller sends that
            template (with its parameters) instead of free-form content.

    Raises:
        ValueError: The fields contradict each other (see above).
    """

    allowed: bool
    messaging_type: MessagingType | None
    tag: MessageTag | None
    recipient: Recipient | None
    reason: str
    token: NotificationToken | None = None
    template: str | None = attrs.field(default=None, kw_only=True)
    rule: str = attrs.field(kw_only=True, validator=_check)

    @classmethod
    def refuse(cls, reason: str, *, rule: str) -> Decision:
        """A refusal.

        Args:
            reason: Why, in a sentence a person can read.
            rule: The short, stable code of the rule that refused.

        Returns:
            The decision.
        """
        return cls(False, None, None, None, reason, rule=rule)
