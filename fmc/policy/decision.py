"""The policy's answer: may this be sent, and how."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from fmc.models.recipient import Recipient
from fmc.models.send import MessageTag, MessagingType
from fmc.models.subscriber import NotificationToken

__all__ = ["Decision"]

#: A reason as given: the sentence, or a function that writes it when it is first read.
Reason = str | Callable[[], str]


def _text(reason: Reason) -> str:
    return reason if isinstance(reason, str) else reason()


def _check(instance: Decision, _attribute: attrs.Attribute[Any], _value: Any) -> None:
    # A deferred reason is the policy's own, checked by its tests; only a
    # given sentence is checked here, so checking never writes one.
    if isinstance(instance._given_reason, str) and not instance._given_reason:
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


@attrs.frozen(repr=False)
class Decision:
    """Whether a message may be sent to a subscriber, and how to send it.

    An allowed decision always carries a ``messaging_type`` and a
    ``recipient``, and a ``tag`` exactly when the type is ``MESSAGE_TAG``; a
    refusal carries none of them. Both carry a human ``reason`` and a short,
    stable ``rule`` code, so reports can group skips by rule.

    The reason may be given as a function that writes it: it is then written
    the first time :attr:`reason` is read (a refusal the caller reports, an
    error message), never for the allowed sends of a broadcast nobody reads
    it for. Equality and ``repr`` use the written sentence either way.

    Attributes:
        allowed: Whether the send is allowed.
        messaging_type: The Send API ``messaging_type`` to use.
        tag: The message tag, when ``messaging_type`` is ``MESSAGE_TAG``.
        recipient: The PSID, or the notification token to send to.
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
    _given_reason: Reason = attrs.field(alias="reason", eq=_text)
    token: NotificationToken | None = None
    template: str | None = attrs.field(default=None, kw_only=True)
    rule: str = attrs.field(kw_only=True, validator=_check)
    _written: str | None = attrs.field(default=None, init=False, eq=False)

    @property
    def reason(self) -> str:
        """Why, in a sentence a person can read.

        For example ``"last interaction 31 h ago; outside the 24 h window; NEWS
        needs pages_messaging_subscriptions or a notification token"``. The
        constructor takes the sentence or a function that returns it; a
        function is called the first time this is read.
        """
        if self._written is None:
            object.__setattr__(self, "_written", _text(self._given_reason))
        assert self._written is not None
        return self._written

    def __repr__(self) -> str:
        shown = (a.alias or a.name for a in attrs.fields(Decision) if a.init)
        return f"Decision({', '.join(f'{name}={getattr(self, name)!r}' for name in shown)})"

    @classmethod
    def refuse(cls, reason: Reason, *, rule: str) -> Decision:
        """A refusal.

        Args:
            reason: Why, in a sentence a person can read (or a function that writes it).
            rule: The short, stable code of the rule that refused.

        Returns:
            The decision.
        """
        return cls(False, None, None, None, reason, rule=rule)
