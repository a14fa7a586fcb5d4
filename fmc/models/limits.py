"""Every size limit Meta puts on a message, in one table, and the validators that read it.

A limit is data: a named field, the smallest and largest size Meta accepts, and
the unit the size is counted in. The models' validators look their limit up in
:data:`LIMITS` once, when the class is defined, so changing a number here
changes what every model accepts. A violated limit raises :class:`LimitError`,
whose message names the field, the limit and the size it was given, e.g.
``Text.text is 2,013 characters; the limit is 2,000``.

Characters are counted as Python counts them (code points), which is how Meta
counts the "characters" of its UTF-8 text.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from fmc.errors import FMCError

__all__ = [
    "LIMITS",
    "Limit",
    "LimitError",
    "Unit",
    "ValidationError",
    "check_limit",
    "items_of",
    "limited",
    "non_empty",
    "optional_bool",
    "web_url",
]


class ValidationError(FMCError, ValueError):
    """A model was given values that Meta would refuse or that contradict each other."""


class Unit(str, enum.Enum):
    """What a limit counts."""

    CHARACTERS = "characters"
    QUICK_REPLIES = "quick replies"
    BUTTONS = "buttons"
    ELEMENTS = "elements"


@attrs.frozen
class Limit:
    """One size limit Meta enforces on a field.

    Attributes:
        field: The field, as ``Class.attribute``; a generic class name
            (``Message``, ``Button``) stands for every class with that field.
        max: The largest size Meta accepts.
        unit: What the size counts.
        min: The smallest size Meta accepts (1 for a field that may not be
            empty, 0 when an empty value is fine).
    """

    field: str
    max: int
    unit: Unit
    min: int = 0


class LimitError(ValidationError):
    """A field is longer (or shorter) than Meta accepts.

    Args:
        field: The field that broke its limit, as ``Class.attribute``.
        size: The size it was given, in the limit's unit.
        limit: The limit it broke.

    Attributes:
        field: The field that broke its limit, as ``Class.attribute``.
        size: The size it was given, in the limit's unit.
        limit: The limit it broke.
    """

    def __init__(self, field: str, size: int, limit: Limit) -> None:
        self.field = field
        self.size = size
        self.limit = limit
        verb = "is" if limit.unit is Unit.CHARACTERS else "has"
        if size > limit.max:
            rule = f"the limit is {limit.max:,}"
        else:
            rule = f"at least {limit.min:,} {'is' if limit.min == 1 else 'are'} required"
        super().__init__(f"{field} {verb} {size:,} {limit.unit.value}; {rule}")

    def __reduce__(self) -> tuple[type[LimitError], tuple[str, int, Limit]]:
        return (type(self), (self.field, self.size, self.limit))


_C = Unit.CHARACTERS

#: Every limit, by field. Sources: Meta's Send API, quick replies, buttons and
#: template reference pages.
LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        limit.field: limit
        for limit in (
            # Meta refuses an empty message (100/2018034).
            Limit("Text.text", 2_000, _C, min=1),
            Limit("Message.metadata", 1_000, _C),
            Limit("Message.quick_replies", 13, Unit.QUICK_REPLIES),
            Limit("QuickReply.title", 20, _C, min=1),
            Limit("QuickReply.payload", 1_000, _C, min=1),
            Limit("Button.title", 20, _C, min=1),
            Limit("PostbackButton.payload", 1_000, _C, min=1),
            Limit("Element.title", 80, _C, min=1),
            Limit("Element.subtitle", 80, _C),
            Limit("Element.buttons", 3, Unit.BUTTONS),
            Limit("GenericTemplate.elements", 10, Unit.ELEMENTS, min=1),
            Limit("ButtonTemplate.text", 640, _C, min=1),
            Limit("ButtonTemplate.buttons", 3, Unit.BUTTONS, min=1),
            Limit("MediaElement.buttons", 3, Unit.BUTTONS),
            Limit("ReceiptTemplate.elements", 100, Unit.ELEMENTS),
            # Persistent-menu items allow 30 characters, not the 20 of buttons.
            Limit("MenuItem.title", 30, _C, min=1),
            Limit("MenuItem.payload", 1_000, _C, min=1),
            # One-time notification request template: "limited to 65 characters".
            Limit("OneTimeNotificationRequest.title", 65, _C, min=1),
            # Meta gives no payload limit there; fmc applies its postback one.
            Limit("OneTimeNotificationRequest.payload", 1_000, _C, min=1),
        )
    }
)


def check_limit(name: str, field: str, value: Any) -> None:
    """Check one value against the limit called ``name``.

    Args:
        name: The key of the limit in :data:`LIMITS`.
        field: The field to name in the error, as ``Class.attribute``.
        value: A string (for a character limit) or a sized collection.

    Raises:
        LimitError: The value's size is outside the limit.
        TypeError: A character limit was given something other than a string.
        KeyError: No limit is called ``name``.
    """
    limit = LIMITS[name]
    if limit.unit is Unit.CHARACTERS and not isinstance(value, str):
        raise TypeError(f"{field} must be a str, got {type(value).__name__}")
    size = len(value)
    if size > limit.max or size < limit.min:
        raise LimitError(field, size, limit)


Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def limited(name: str, *, optional: bool = False) -> Validator:
    """Build an attrs validator that enforces the limit called ``name``.

    The limit is looked up once, here; the error names the field as
    ``<class of the instance>.<attribute>``.

    Args:
        name: The key of the limit in :data:`LIMITS`.
        optional: Let ``None`` through unchecked.

    Returns:
        A validator for ``attrs.field(validator=...)``.

    Raises:
        KeyError: No limit is called ``name``.
    """
    limit = LIMITS[name]
    low, high, is_text = limit.min, limit.max, limit.unit is Unit.CHARACTERS

    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if is_text and not isinstance(value, str):
            raise TypeError(
                f"{type(instance).__name__}.{attribute.name} must be a str, "
                f"got {type(value).__name__}"
            )
        size = len(value)
        if size > high or size < low:
            raise LimitError(f"{type(instance).__name__}.{attribute.name}", size, limit)

    return validate


def non_empty(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate that a field holds a non-empty string.

    Raises:
        TypeError: The value is not a string.
        ValidationError: The string is empty.
    """
    field = f"{type(instance).__name__}.{attribute.name}"
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a str, got {type(value).__name__}")
    if not value:
        raise ValidationError(f"{field} must not be empty")


def web_url(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate that a field holds an ``http://`` or ``https://`` URL.

    Raises:
        TypeError: The value is not a string.
        ValidationError: The value is not an absolute http(s) URL.
    """
    non_empty(instance, attribute, value)
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest:
        raise ValidationError(
            f"{type(instance).__name__}.{attribute.name} must be an http:// or https:// URL"
        )


def optional_bool(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate that a field holds ``None`` or a bool.

    Raises:
        TypeError: The value is neither.
    """
    if value is not None and not isinstance(value, bool):
        raise TypeError(
            f"{type(instance).__name__}.{attribute.name} must be a bool, got {type(value).__name__}"
        )


def items_of(*kinds: type) -> Validator:
    """Build an attrs validator that every item of a collection field is one of ``kinds``.

    Args:
        kinds: The classes an item may be; the error names them
            (``UrlButton, PostbackButton or CallButton``).

    Returns:
        A validator for ``attrs.field(validator=...)``.
    """
    names = [kind.__name__ for kind in kinds]
    allowed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"

    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        for item in value:
            if not isinstance(item, kinds):
                raise TypeError(
                    f"{type(instance).__name__}.{attribute.name} items must be {allowed}, "
                    f"got {type(item).__name__}"
                )

    return validate
