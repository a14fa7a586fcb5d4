"""Recipients: who a message goes to, by PSID, plugin reference, post, comment or token."""

from __future__ import annotations

from typing import Any

import attrs

from fmc.models.limits import ValidationError
from fmc.models.subscriber import NotificationToken, TokenKind

__all__ = ["Recipient"]

#: The recipient forms, in wire order; exactly one is set.
_FORMS = (
    "id",
    "user_ref",
    "post_id",
    "comment_id",
    "one_time_notif_token",
    "notification_messages_token",
)
_SECRET_FORMS = frozenset({"one_time_notif_token", "notification_messages_token"})


def _identifier(value: str | int | None) -> str | None:
    # Ids are often held as ints; the wire wants strings.
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a Recipient id must be a str or int, got {type(value).__name__}")
    return str(value)


def _text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise TypeError(f"Recipient.{attribute.name} must be a str, got {type(value).__name__}")
    if not value:
        raise ValidationError(f"Recipient.{attribute.name} must not be empty")


@attrs.frozen(repr=False)
class Recipient:
    """Who a message goes to: exactly one of the forms below.

    The notification tokens are credentials to message a person, so they are
    never shown by ``repr``.

    Attributes:
        id: The person's page-scoped id (PSID).
        user_ref: A reference from the checkbox or chat plugin.
        post_id: A post, for a private reply to its author.
        comment_id: A comment, for a private reply to its author.
        one_time_notif_token: A One-Time Notification token.
        notification_messages_token: A recurring (marketing) notification token.

    Raises:
        ValidationError: None or several forms were given, or one is empty.
    """

    id: str | None = attrs.field(default=None, converter=_identifier, validator=_text)
    user_ref: str | None = attrs.field(default=None, validator=_text, kw_only=True)
    post_id: str | None = attrs.field(
        default=None, converter=_identifier, validator=_text, kw_only=True
    )
    comment_id: str | None = attrs.field(
        default=None, converter=_identifier, validator=_text, kw_only=True
    )
    one_time_notif_token: str | None = attrs.field(
        default=None, validator=_text, repr=False, kw_only=True
    )
    notification_messages_token: str | None = attrs.field(
        default=None, validator=_text, repr=False, kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        set_count = (
            (self.id is not None)
            + (self.user_ref is not None)
            + (self.post_id is not None)
            + (self.comment_id is not None)
            + (self.one_time_notif_token is not None)
            + (self.notification_messages_token is not None)
        )
        if set_count != 1:
            given = [name for name in _FORMS if getattr(self, name) is not None]
            raise ValidationError(
                f"Recipient takes exactly one of {', '.join(_FORMS)}; "
                f"got {' and '.join(given) if given else 'none'}"
            )

    @property
    def kind(self) -> str:
        """The name of the form that is set (its wire key), e.g. ``"id"``."""
        return next(name for name in _FORMS if getattr(self, name) is not None)

    def __repr__(self) -> str:
        kind = self.kind
        shown = "<redacted>" if kind in _SECRET_FORMS else repr(getattr(self, kind))
        return f"Recipient({kind}={shown})"

    @classmethod
    def psid(cls, psid: str | int) -> Recipient:
        """The person with this page-scoped id.

        Args:
            psid: The PSID.

        Returns:
            The recipient.
        """
        return cls(psid)

    @classmethod
    def from_token(cls, token: NotificationToken) -> Recipient:
        """The person who gave this notification token.

        Args:
            token: A one-time or recurring notification token.

        Returns:
            The recipient in the token's form.
        """
        if token.kind is TokenKind.ONE_TIME:
            return cls(one_time_notif_token=token.token)
        return cls(notification_messages_token=token.token)
