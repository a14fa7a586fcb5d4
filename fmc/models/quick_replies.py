"""Quick replies: the buttons shown above the composer, attached to any message."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from fmc.models.limits import ValidationError, items_of, limited, web_url

__all__ = ["QuickReply", "QuickReplyType"]


class QuickReplyType(str, enum.Enum):
    """What a quick reply asks for (its wire ``content_type``)."""

    #: A titled button that sends back its payload.
    TEXT = "text"
    #: Offers the person's phone number from their profile.
    USER_PHONE_NUMBER = "user_phone_number"
    #: Offers the person's email address from their profile.
    USER_EMAIL = "user_email"


@attrs.frozen
class QuickReply:
    """A quick reply button.

    Text quick replies need a ``title`` (at most 20 characters) and a
    ``payload`` (at most 1,000 characters) and may show an image; phone-number
    and email quick replies take nothing else. A message carries at most 13.

    Attributes:
        content_type: Text, phone number or email (a :class:`QuickReplyType`
            or its wire value).
        title: The button's label (text quick replies).
        payload: Sent back to the webhook when tapped (text quick replies).
        image_url: An image shown in the button (text quick replies).

    Raises:
        LimitError: The title or payload is too long or empty.
        ValidationError: A text quick reply lacks its title or payload, or
            another kind was given one.
    """

    content_type: QuickReplyType = attrs.field(
        default=QuickReplyType.TEXT, converter=QuickReplyType
    )
    title: str | None = attrs.field(
        default=None, validator=limited("QuickReply.title", optional=True)
    )
    payload: str | None = attrs.field(
        default=None, validator=limited("QuickReply.payload", optional=True)
    )
    image_url: str | None = attrs.field(default=None, validator=attrs.validators.optional(web_url))

    def __attrs_post_init__(self) -> None:
        if self.content_type is QuickReplyType.TEXT:
            missing = [name for name in ("title", "payload") if getattr(self, name) is None]
            if missing:
                raise ValidationError(f"a text QuickReply needs {' and '.join(missing)}")
            return
        given = [
            name for name in ("title", "payload", "image_url") if getattr(self, name) is not None
        ]
        if given:
            raise ValidationError(
                f"a {self.content_type.value} QuickReply takes no {', '.join(given)}; "
                "only text quick replies have a title, payload or image"
            )

    @classmethod
    def text(cls, title: str, payload: str, *, image_url: str | None = None) -> QuickReply:
        """A text quick reply.

        Args:
            title: The button's label.
            payload: Sent back to the webhook when tapped.
            image_url: An image shown in the button.

        Returns:
            The quick reply.
        """
        return cls(QuickReplyType.TEXT, title, payload, image_url)

    @classmethod
    def phone_number(cls) -> QuickReply:
        """A quick reply offering the person's phone number.

        Returns:
            The quick reply.
        """
        return cls(QuickReplyType.USER_PHONE_NUMBER)

    @classmethod
    def email(cls) -> QuickReply:
        """A quick reply offering the person's email address.

        Returns:
            The quick reply.
        """
        return cls(QuickReplyType.USER_EMAIL)


def quick_replies_tuple(value: Iterable[QuickReply]) -> tuple[QuickReply, ...]:
    """Convert a message's ``quick_replies`` argument to a tuple.

    Args:
        value: Any iterable of quick replies.

    Returns:
        The quick replies as a tuple.

    Raises:
        TypeError: ``value`` is one quick reply rather than a list of them,
            or is not iterable; the message shows the list to write.
    """
    if type(value) is tuple:
        return value
    if isinstance(value, QuickReply):
        raise TypeError(
            "quick_replies takes a list of QuickReply, got a single QuickReply; "
            "wrap it in a list: quick_replies=[QuickReply.text(...)]"
        )
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(
            f"quick_replies takes a list of QuickReply, got {type(value).__name__}"
        ) from None


_quick_replies_limit = limited("Message.quick_replies")
_each_quick_reply = items_of(QuickReply)


def check_quick_replies(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate a message's ``quick_replies``: at most 13, each a :class:`QuickReply`.

    Raises:
        LimitError: More than 13 quick replies.
        TypeError: An item is not a :class:`QuickReply`.
    """
    if not value:
        return
    _quick_replies_limit(instance, attribute, value)
    _each_quick_reply(instance, attribute, value)
