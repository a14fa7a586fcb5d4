"""Buttons for templates: open a URL, post back to the webhook, or call a number.

On the wire each button carries a ``type`` (``web_url``, ``postback``,
``phone_number``); :mod:`fmc.convert` adds and reads it, so the Python classes
only hold what the caller chooses.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any

import attrs

from fmc.models.limits import (
    ValidationError,
    Validator,
    items_of,
    limited,
    non_empty,
    optional_bool,
    web_url,
)

__all__ = [
    "Button",
    "CallButton",
    "DefaultAction",
    "PostbackButton",
    "UrlButton",
    "WebviewHeightRatio",
]

# E.164: a plus sign, then up to 15 digits, the first not zero.
_PHONE_NUMBER = re.compile(r"\+[1-9][0-9]{1,14}")


class WebviewHeightRatio(str, enum.Enum):
    """How much of the screen the Messenger webview covers."""

    COMPACT = "compact"
    TALL = "tall"
    FULL = "full"


def _optional_ratio(value: WebviewHeightRatio | str | None) -> WebviewHeightRatio | None:
    return None if value is None else WebviewHeightRatio(value)


def _check_webview(action: UrlButton | DefaultAction) -> None:
    if action.fallback_url is not None and not action.messenger_extensions:
        raise ValidationError(
            f"{type(action).__name__}.fallback_url is only allowed with messenger_extensions=True"
        )
    if action.messenger_extensions and not action.url.lower().startswith("https://"):
        raise ValidationError(
            f"{type(action).__name__}.url must use https:// when messenger_extensions=True"
        )


@attrs.frozen
class UrlButton:
    """A button that opens a web page in the Messenger webview (wire type ``web_url``).

    Attributes:
        title: The button's label, at most 20 characters.
        url: The page to open (http or https; https with Messenger Extensions).
        webview_height_ratio: Compact, tall or full.
        messenger_extensions: Open with the Messenger Extensions SDK enabled.
        fallback_url: Opened where Messenger Extensions are not supported;
            only with ``messenger_extensions=True``.

    Raises:
        LimitError: The title is empty or longer than 20 characters.
        ValidationError: A URL is not http(s), or ``fallback_url`` is given
            without Messenger Extensions.
    """

    title: str = attrs.field(validator=limited("Button.title"))
    url: str = attrs.field(validator=web_url)
    webview_height_ratio: WebviewHeightRatio | None = attrs.field(
        default=None, converter=_optional_ratio, kw_only=True
    )
    messenger_extensions: bool | None = attrs.field(
        default=None, validator=optional_bool, kw_only=True
    )
    fallback_url: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(web_url), kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        _check_webview(self)


@attrs.frozen
class PostbackButton:
    """A button that sends a ``messaging_postbacks`` event with its payload.

    Attributes:
        title: The button's label, at most 20 characters.
        payload: Sent to the webhook when tapped, at most 1,000 characters.

    Raises:
        LimitError: The title or payload is empty or too long.
    """

    title: str = attrs.field(validator=limited("Button.title"))
    payload: str = attrs.field(validator=limited("PostbackButton.payload"))


def _phone_number(instance: CallButton, attribute: attrs.Attribute[Any], value: Any) -> None:
    non_empty(instance, attribute, value)
    if not _PHONE_NUMBER.fullmatch(value):
        raise ValidationError(
            "CallButton.payload must be a phone number in E.164 form: '+', the country "
            f"code and the number, digits only (e.g. +16505551234); got {len(value)} characters"
        )


@attrs.frozen
class CallButton:
    """A button that dials a phone number (wire type ``phone_number``).

    Attributes:
        title: The button's label, at most 20 characters.
        payload: The number to call, in E.164 form (``+16505551234``).

    Raises:
        LimitError: The title is empty or longer than 20 characters.
        ValidationError: The number is not in E.164 form.
    """

    title: str = attrs.field(validator=limited("Button.title"))
    payload: str = attrs.field(validator=_phone_number)


@attrs.frozen
class DefaultAction:
    """What tapping a generic template element opens: a URL action without a title.

    Attributes:
        url: The page to open (http or https; https with Messenger Extensions).
        webview_height_ratio: Compact, tall or full.
        messenger_extensions: Open with the Messenger Extensions SDK enabled.
        fallback_url: Opened where Messenger Extensions are not supported;
            only with ``messenger_extensions=True``.

    Raises:
        ValidationError: A URL is not http(s), or ``fallback_url`` is given
            without Messenger Extensions.
    """

    url: str = attrs.field(validator=web_url)
    webview_height_ratio: WebviewHeightRatio | None = attrs.field(
        default=None, converter=_optional_ratio, kw_only=True
    )
    messenger_extensions: bool | None = attrs.field(
        default=None, validator=optional_bool, kw_only=True
    )
    fallback_url: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(web_url), kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        _check_webview(self)


#: Any button a template or element may carry.
Button = UrlButton | PostbackButton | CallButton

_BUTTON_CLASSES = (UrlButton, PostbackButton, CallButton)
_each_button = items_of(*_BUTTON_CLASSES)


def buttons_tuple(value: Iterable[Button]) -> tuple[Button, ...]:
    """Convert a ``buttons`` argument to a tuple.

    Args:
        value: Any iterable of buttons.

    Returns:
        The buttons as a tuple.

    Raises:
        TypeError: ``value`` is one button rather than a list of them, or is
            not iterable; the message shows the list to write.
    """
    if type(value) is tuple:
        return value
    if isinstance(value, _BUTTON_CLASSES):
        raise TypeError(
            f"buttons takes a list of buttons, got a single {type(value).__name__}; "
            f"wrap it in a list: buttons=[{type(value).__name__}(...)]"
        )
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(f"buttons takes a list of buttons, got {type(value).__name__}") from None


def check_buttons(limit_name: str) -> Validator:
    """Build a validator for a ``buttons`` field: its limit, and each item a button.

    Args:
        limit_name: The key of the field's limit in :data:`fmc.models.limits.LIMITS`.

    Returns:
        A validator for ``attrs.field(validator=...)``.
    """
    check_limit = limited(limit_name)

    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_limit(instance, attribute, value)
        _each_button(instance, attribute, value)

    return validate
