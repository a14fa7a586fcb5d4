"""Subscribers: the people who wrote to a Page, and what they allowed it to send them."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

__all__ = ["NotificationToken", "Subscriber", "SubscriberStatus", "TokenKind", "TokenStatus"]


def _aware(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError(f"{attribute.name} must be a timezone-aware datetime, got a naive one")


def _non_empty(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name} must be a non-empty string")


def _token_tuple(tokens: Iterable[NotificationToken]) -> tuple[NotificationToken, ...]:
    return tuple(tokens)


class SubscriberStatus(str, enum.Enum):
    """Whether a subscriber may be messaged at all."""

    ACTIVE = "active"
    #: Meta said the person can't be reached (551 and friends).
    UNAVAILABLE = "unavailable"
    #: The person asked not to be messaged.
    OPTED_OUT = "opted_out"
    #: The person blocked the Page (``policy-enforcement`` or an explicit block).
    BLOCKED = "blocked"


class TokenKind(str, enum.Enum):
    """The kind of opt-in notification token a person gave the Page."""

    #: A One-Time Notification token (``one_time_notif_token``): one message, then spent.
    ONE_TIME = "one_time"
    #: A recurring / marketing messages token (``notification_messages_token``).
    NOTIFICATION_MESSAGES = "notification_messages"


class TokenStatus(str, enum.Enum):
    """Whether a notification token may still be used."""

    ACTIVE = "active"
    #: The person chose "STOP NOTIFICATIONS".
    STOPPED = "stopped"
    #: A one-time token that was used.
    USED = "used"


@attrs.frozen
class NotificationToken:
    """An opt-in notification token from a ``messaging_optins`` event.

    Attributes:
        kind: One-time or recurring (``notification_messages``).
        token: The token itself; it is a credential to message the person, so
            it is kept out of ``repr``.
        topic: The opt-in's ``title`` or ``payload`` (what the person agreed to
            receive), used by the policy to match a purpose.
        frequency: ``DAILY``, ``WEEKLY`` or ``MONTHLY`` for recurring tokens.
        expires_at: When Meta said the token expires, if it did.
        status: Active, stopped by the person, or used (one-time tokens).
        created_at: When the opt-in arrived.
    """

    kind: TokenKind
    token: str = attrs.field(repr=False, validator=_non_empty)
    topic: str | None = None
    frequency: str | None = None
    expires_at: datetime | None = attrs.field(default=None, validator=_aware)
    status: TokenStatus = TokenStatus.ACTIVE
    created_at: datetime | None = attrs.field(default=None, validator=_aware)

    def is_usable(self, now: datetime) -> bool:
        """Whether the token may be used to send at ``now``."""
        if self.status is not TokenStatus.ACTIVE:
            return False
        return self.expires_at is None or now < self.expires_at


@attrs.frozen
class Subscriber:
    """A person who started a conversation with a Page.

    Attributes:
        page_id: The Page the person wrote to.
        psid: The page-scoped id of the person.
        status: Whether the person may be messaged at all.
        first_seen_at: When fmc first saw the person (never moves later).
        last_interaction_at: The last event that opens the 24-hour window (a
            message, postback, reaction, referral on an open thread, plugin
            opt-in); not deliveries, reads, echoes or notification opt-ins.
        last_human_agent_at: The last reply a human agent sent the person.
        name: Profile name, if known.
        locale: Profile locale, if known.
        timezone: Profile UTC offset in hours, if known.
        tokens: Notification tokens the person gave the Page.
        status_reason: Why the status is what it is (e.g. Meta's error).
        ad_referral_at: When the person last wrote from a Click-to-Messenger
            ad (a message or referral with ``source`` ``ADS``), which keeps
            the window open up to 7 days. Recorded from the webhook by every
            store (newest wins; never moves earlier).
    """

    page_id: str = attrs.field(validator=_non_empty)
    psid: str = attrs.field(validator=_non_empty)
    status: SubscriberStatus = SubscriberStatus.ACTIVE
    first_seen_at: datetime | None = attrs.field(default=None, validator=_aware)
    last_interaction_at: datetime | None = attrs.field(default=None, validator=_aware)
    last_human_agent_at: datetime | None = attrs.field(default=None, validator=_aware)
    name: str | None = None
    locale: str | None = None
    timezone: float | None = None
    tokens: tuple[NotificationToken, ...] = attrs.field(default=(), converter=_token_tuple)
    status_reason: str | None = None
    ad_referral_at: datetime | None = attrs.field(default=None, validator=_aware, kw_only=True)

    def usable_tokens(self, now: datetime) -> tuple[NotificationToken, ...]:
        """The tokens that may still be used at ``now``."""
        return tuple(token for token in self.tokens if token.is_usable(now))
