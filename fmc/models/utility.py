"""A utility message: one of the Page's approved utility templates, with its parameters.

Utility messages (Meta, "Send a utility message", updated 13 March 2026) are
template-based, non-marketing messages (order and account status,
appointment and event reminders) that may be sent outside the 24-hour
window. The stored copy of Meta's page is cut before the send step; the body
fmc writes (``messaging_type`` ``UTILITY`` and ``message.template`` with
``name``, ``language.code`` and lower-case ``components``) is the one several
public integrations use. See the Platform status page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs

from fmc.models.limits import ValidationError, non_empty

__all__ = ["TemplateParameter", "UtilityTemplate"]

# Meta's template names: lower-case letters, digits and underscores.
_NAME = re.compile(r"[a-z0-9_]{1,512}")


def _template_name(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    non_empty(instance, attribute, value)
    if not _NAME.fullmatch(value):
        raise ValidationError(
            f"{type(instance).__name__}.{attribute.name} must be a template name of "
            f"lower-case letters, digits and underscores, got {value!r}"
        )


@attrs.frozen
class TemplateParameter:
    """One value filled into a template's body.

    Attributes:
        text: The value, e.g. an order number.
        name: The placeholder's name for a template with named parameters
            (``{{order_id}}``); ``None`` for positional ones (``{{1}}``).

    Raises:
        ValidationError: The text is empty.
    """

    text: str = attrs.field(validator=non_empty)
    name: str | None = attrs.field(default=None, kw_only=True)


def _parameter(value: TemplateParameter | str) -> TemplateParameter:
    return value if isinstance(value, TemplateParameter) else TemplateParameter(value)


def _parameters(value: Iterable[TemplateParameter | str]) -> tuple[TemplateParameter, ...]:
    if isinstance(value, str):
        raise TypeError("UtilityTemplate.parameters must be a list of values, not one string")
    return tuple(_parameter(item) for item in value)


@attrs.frozen
class UtilityTemplate:
    """A utility message from the Page's approved template ``name``.

    Attributes:
        name: The template's name on the Page.
        language: Its language and locale code, e.g. ``en_US``.
        parameters: The body's values in order (plain strings are positional
            parameters).

    Raises:
        ValidationError: A name that is not a template name, or an empty language.
    """

    name: str = attrs.field(validator=_template_name)
    language: str = attrs.field(default="en_US", validator=non_empty, kw_only=True)
    parameters: tuple[TemplateParameter, ...] = attrs.field(
        default=(), converter=_parameters, kw_only=True
    )

    @classmethod
    def named(cls, template: str, /, *, language: str = "en_US", **values: str) -> UtilityTemplate:
        """A template with named parameters, given as keywords.

        Args:
            template: The template's name.
            language: Its language code.
            **values: Placeholder name to value.

        Returns:
            The message.
        """
        return cls(
            template,
            language=language,
            parameters=[TemplateParameter(text, name=key) for key, text in values.items()],
        )
