"""The opt-in request for marketing messages: the person's consent, asked in the thread.

Marketing messages (the paid Marketing Messages API for Messenger) go only to
people who opted in. The request is Meta's ``notification_messages`` template;
a person who taps it arrives as a ``messaging_optins`` event of type
``notification_messages`` carrying the ``notification_messages_token`` that the
Marketing Messages API sends to (messaging_optins reference, updated
20 Jun 2023; Marketing messages on Messenger, 2026). The template's fields
follow the older recurring-notification request; which of them the Marketing
Messages API still reads is not in the stored copies: see the Platform status
page.
"""

from __future__ import annotations

import enum

import attrs

from fmc.models.limits import limited, web_url

__all__ = ["MarketingOptInRequest", "OptInCallToAction"]


class OptInCallToAction(str, enum.Enum):
    """The label of the opt-in button (``notification_messages_cta_text``)."""

    ALLOW = "ALLOW"
    FREQUENCY = "FREQUENCY"
    GET = "GET"
    OPT_IN = "OPT_IN"
    SIGN_UP = "SIGN_UP"


def _cta(value: OptInCallToAction | str | None) -> OptInCallToAction | None:
    return None if value is None else OptInCallToAction(value)


@attrs.frozen
class MarketingOptInRequest:
    """Ask the person to opt in to marketing messages (``template_type`` ``notification_messages``).

    Attributes:
        title: What the person will receive, 1 to 65 characters.
        payload: Echoed in the opt-in event, e.g. ``"promotional"``.
        image_url: An image shown with the request.
        notification_messages_cta_text: The button's label.

    Raises:
        LimitError: The title or payload is empty or too long.
        ValidationError: The image URL is not http(s).
    """

    title: str = attrs.field(validator=limited("OneTimeNotificationRequest.title"))
    payload: str = attrs.field(validator=limited("OneTimeNotificationRequest.payload"))
    image_url: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(web_url), kw_only=True
    )
    notification_messages_cta_text: OptInCallToAction | None = attrs.field(
        default=None, converter=_cta, kw_only=True
    )
