"""Structured messages: the generic, button, media and receipt templates.

On the wire a template is an attachment of type ``template`` whose payload
names its ``template_type``; :mod:`fmc.convert` builds that envelope, so the
classes here hold only what the caller chooses. Every template may carry quick
replies and ``metadata`` like any other message.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from fmc.models.buttons import Button, DefaultAction, buttons_tuple, check_buttons
from fmc.models.limits import (
    ValidationError,
    items_of,
    limited,
    non_empty,
    optional_bool,
    web_url,
)
from fmc.models.quick_replies import QuickReply, check_quick_replies, quick_replies_tuple

__all__ = [
    "ButtonTemplate",
    "Element",
    "GenericTemplate",
    "ImageAspectRatio",
    "MediaElement",
    "MediaTemplate",
    "MediaType",
    "ReceiptAddress",
    "ReceiptAdjustment",
    "ReceiptElement",
    "ReceiptSummary",
    "ReceiptTemplate",
]

_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_optional_text = attrs.validators.optional(non_empty)
_optional_url = attrs.validators.optional(web_url)
_metadata = limited("Message.metadata", optional=True)


def _amount(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"an amount must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValidationError(f"an amount must be a finite number, got {value!r}")
    return float(value)


def _optional_amount(value: float | None) -> float | None:
    return None if value is None else _amount(value)


def _code(pattern: re.Pattern[str], what: str) -> Any:
    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        non_empty(instance, attribute, value)
        if not pattern.fullmatch(value):
            raise ValidationError(
                f"{type(instance).__name__}.{attribute.name} must be {what}, got {value!r}"
            )

    return validate


_currency = _code(_CURRENCY, "a three-letter ISO 4217 code such as 'USD'")


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise TypeError(
            f"{type(instance).__name__}.{attribute.name} must be a datetime, "
            f"got {type(value).__name__}"
        )
    if value.tzinfo is None:
        raise ValidationError(
            f"{type(instance).__name__}.{attribute.name} must be a timezone-aware datetime"
        )


def _elements(value: Iterable[Element]) -> tuple[Element, ...]:
    return tuple(value)


def _receipt_elements(value: Iterable[ReceiptElement]) -> tuple[ReceiptElement, ...]:
    return tuple(value)


def _adjustments(value: Iterable[ReceiptAdjustment]) -> tuple[ReceiptAdjustment, ...]:
    return tuple(value)


class ImageAspectRatio(str, enum.Enum):
    """The shape of the images of a generic template."""

    HORIZONTAL = "horizontal"
    SQUARE = "square"


class MediaType(str, enum.Enum):
    """What a media template shows."""

    IMAGE = "image"
    VIDEO = "video"


@attrs.frozen
class Element:
    """One card of a generic template (a carousel has up to 10).

    Attributes:
        title: The card's title, at most 80 characters.
        subtitle: A line under the title, at most 80 characters.
        image_url: The card's image.
        default_action: What tapping the card opens.
        buttons: Up to 3 buttons.

    Raises:
        LimitError: The title or subtitle is too long, or there are more
            than 3 buttons.
        ValidationError: Only a title was given (Meta needs one more field).
    """

    title: str = attrs.field(validator=limited("Element.title"))
    subtitle: str | None = attrs.field(
        default=None, validator=limited("Element.subtitle", optional=True), kw_only=True
    )
    image_url: str | None = attrs.field(default=None, validator=_optional_url, kw_only=True)
    default_action: DefaultAction | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.instance_of(DefaultAction)),
        kw_only=True,
    )
    buttons: tuple[Button, ...] = attrs.field(
        default=(),
        converter=buttons_tuple,
        validator=check_buttons("Element.buttons"),
        kw_only=True,
    )

    def __attrs_post_init__(self) -> None:
        if not (self.subtitle or self.image_url or self.default_action or self.buttons):
            raise ValidationError(
                "an Element needs a subtitle, image_url, default_action or buttons "
                "besides its title"
            )


@attrs.frozen
class GenericTemplate:
    """A card or a horizontal carousel of up to 10 cards.

    Attributes:
        elements: 1 to 10 cards.
        image_aspect_ratio: Horizontal (the default on Meta's side) or square.
        sharable: Show Messenger's native share button.
        quick_replies: Up to 13 quick replies.
        metadata: A string echoed back in the ``message_echoes`` webhook.

    Raises:
        LimitError: No element or more than 10, more than 13 quick replies,
            or metadata longer than 1,000 characters.
    """

    elements: tuple[Element, ...] = attrs.field(
        converter=_elements,
        validator=[limited("GenericTemplate.elements"), items_of(Element)],
    )
    image_aspect_ratio: ImageAspectRatio | None = attrs.field(
        default=None,
        converter=attrs.converters.optional(ImageAspectRatio),
        kw_only=True,
    )
    sharable: bool | None = attrs.field(default=None, validator=optional_bool, kw_only=True)
    quick_replies: tuple[QuickReply, ...] = attrs.field(
        default=(), converter=quick_replies_tuple, validator=check_quick_replies, kw_only=True
    )
    metadata: str | None = attrs.field(default=None, validator=_metadata, kw_only=True)


@attrs.frozen
class ButtonTemplate:
    """A text of up to 640 characters with 1 to 3 buttons under it.

    Attributes:
        text: The text above the buttons.
        buttons: 1 to 3 buttons.
        quick_replies: Up to 13 quick replies.
        metadata: A string echoed back in the ``message_echoes`` webhook.

    Raises:
        LimitError: The text is empty or too long, there are no buttons or
            more than 3, more than 13 quick replies, or metadata too long.
    """

    text: str = attrs.field(validator=limited("ButtonTemplate.text"))
    buttons: tuple[Button, ...] = attrs.field(
        converter=buttons_tuple, validator=check_buttons("ButtonTemplate.buttons")
    )
    quick_replies: tuple[QuickReply, ...] = attrs.field(
        default=(), converter=quick_replies_tuple, validator=check_quick_replies, kw_only=True
    )
    metadata: str | None = attrs.field(default=None, validator=_metadata, kw_only=True)


@attrs.frozen
class MediaElement:
    """The image or video of a media template: by Facebook URL or by attachment id.

    Attributes:
        media_type: Image or video.
        url: The media's Facebook URL (Meta refuses other hosts).
        attachment_id: The id of an uploaded attachment.
        buttons: Up to 3 buttons.

    Raises:
        ValidationError: Not exactly one of ``url`` and ``attachment_id``.
        LimitError: More than 3 buttons.
    """

    media_type: MediaType = attrs.field(converter=MediaType)
    url: str | None = attrs.field(default=None, validator=_optional_url, kw_only=True)
    attachment_id: str | None = attrs.field(default=None, validator=_optional_text, kw_only=True)
    buttons: tuple[Button, ...] = attrs.field(
        default=(),
        converter=buttons_tuple,
        validator=check_buttons("MediaElement.buttons"),
        kw_only=True,
    )

    def __attrs_post_init__(self) -> None:
        if (self.url is None) == (self.attachment_id is None):
            raise ValidationError("a MediaElement takes exactly one of url and attachment_id")


@attrs.frozen
class MediaTemplate:
    """One image or video with optional buttons.

    Attributes:
        element: The media (the wire's one-item ``elements`` list).
        sharable: Show Messenger's native share button.
        quick_replies: Up to 13 quick replies.
        metadata: A string echoed back in the ``message_echoes`` webhook.

    Raises:
        LimitError: More than 13 quick replies, or metadata too long.
    """

    element: MediaElement = attrs.field(validator=attrs.validators.instance_of(MediaElement))
    sharable: bool | None = attrs.field(default=None, validator=optional_bool, kw_only=True)
    quick_replies: tuple[QuickReply, ...] = attrs.field(
        default=(), converter=quick_replies_tuple, validator=check_quick_replies, kw_only=True
    )
    metadata: str | None = attrs.field(default=None, validator=_metadata, kw_only=True)


@attrs.frozen
class ReceiptSummary:
    """The totals of a receipt.

    Attributes:
        total_cost: The total, required.
        subtotal: The sum of the items.
        shipping_cost: Shipping.
        total_tax: Tax.
    """

    total_cost: float = attrs.field(converter=_amount)
    subtotal: float | None = attrs.field(default=None, converter=_optional_amount, kw_only=True)
    shipping_cost: float | None = attrs.field(
        default=None, converter=_optional_amount, kw_only=True
    )
    total_tax: float | None = attrs.field(default=None, converter=_optional_amount, kw_only=True)


@attrs.frozen
class ReceiptAddress:
    """The shipping address of a receipt.

    Attributes:
        street_1: First street line.
        city: City.
        postal_code: Postal code.
        state: State abbreviation (US) or region.
        country: Two-letter country code, e.g. ``US``.
        street_2: Second street line.
    """

    street_1: str = attrs.field(validator=non_empty)
    city: str = attrs.field(validator=non_empty)
    postal_code: str = attrs.field(validator=non_empty)
    state: str = attrs.field(validator=non_empty)
    country: str = attrs.field(validator=_code(_COUNTRY, "a two-letter country code such as 'US'"))
    street_2: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ReceiptAdjustment:
    """A payment adjustment of a receipt, such as a discount.

    Attributes:
        name: What the adjustment is.
        amount: How much.
    """

    name: str = attrs.field(validator=non_empty)
    amount: float = attrs.field(converter=_amount)


def _quantity(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            f"{type(instance).__name__}.{attribute.name} must be a whole number >= 0"
        )


@attrs.frozen
class ReceiptElement:
    """One item of a receipt.

    Attributes:
        title: The item's name.
        price: The item's price (may be 0).
        subtitle: A description.
        quantity: How many.
        currency: The price's currency, a three-letter code.
        image_url: The item's image.
    """

    title: str = attrs.field(validator=non_empty)
    price: float = attrs.field(converter=_amount)
    subtitle: str | None = attrs.field(default=None, kw_only=True)
    quantity: int | None = attrs.field(default=None, validator=_quantity, kw_only=True)
    currency: str | None = attrs.field(default=None, validator=_currency, kw_only=True)
    image_url: str | None = attrs.field(default=None, validator=_optional_url, kw_only=True)


@attrs.frozen
class ReceiptTemplate:
    """An order confirmation.

    Attributes:
        recipient_name: The customer's name.
        order_number: The order number (Meta wants it unique).
        currency: The payment's currency, a three-letter code such as ``USD``.
        payment_method: How it was paid, e.g. ``Visa 1234``.
        summary: The totals; ``total_cost`` is required.
        merchant_name: Shown as logo text.
        order_url: A link to the order.
        timestamp: When the order was placed (aware datetime; whole seconds
            on the wire).
        elements: Up to 100 items.
        address: The shipping address.
        adjustments: Discounts and other adjustments.
        sharable: Show Messenger's native share button.
        quick_replies: Up to 13 quick replies.
        metadata: A string echoed back in the ``message_echoes`` webhook.

    Raises:
        LimitError: More than 100 elements, more than 13 quick replies, or
            metadata too long.
        ValidationError: A required text is empty, the currency is not a
            three-letter code, or the timestamp is naive.
    """

    recipient_name: str = attrs.field(validator=non_empty)
    order_number: str = attrs.field(validator=non_empty)
    currency: str = attrs.field(validator=_currency)
    payment_method: str = attrs.field(validator=non_empty)
    summary: ReceiptSummary = attrs.field(validator=attrs.validators.instance_of(ReceiptSummary))
    merchant_name: str | None = attrs.field(default=None, validator=_optional_text, kw_only=True)
    order_url: str | None = attrs.field(default=None, validator=_optional_url, kw_only=True)
    timestamp: datetime | None = attrs.field(default=None, validator=_aware, kw_only=True)
    elements: tuple[ReceiptElement, ...] = attrs.field(
        default=(),
        converter=_receipt_elements,
        validator=[limited("ReceiptTemplate.elements"), items_of(ReceiptElement)],
        kw_only=True,
    )
    address: ReceiptAddress | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.instance_of(ReceiptAddress)),
        kw_only=True,
    )
    adjustments: tuple[ReceiptAdjustment, ...] = attrs.field(
        default=(), converter=_adjustments, validator=items_of(ReceiptAdjustment), kw_only=True
    )
    sharable: bool | None = attrs.field(default=None, validator=optional_bool, kw_only=True)
    quick_replies: tuple[QuickReply, ...] = attrs.field(
        default=(), converter=quick_replies_tuple, validator=check_quick_replies, kw_only=True
    )
    metadata: str | None = attrs.field(default=None, validator=_metadata, kw_only=True)
