"""fmc's wire conventions, shared by every layer's cattrs converter.

Fields left at ``None`` are omitted, enums travel as their wire values, and
datetimes travel as epoch milliseconds (Meta's ``timestamp`` and
``watermark`` fields) and come back as timezone-aware UTC datetimes. The
public names are :mod:`fmc.convert`'s; this module is small so that the
webhook's converter need not load the Send API's hooks.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any, cast

import cattrs

__all__ = ["datetime_from_millis", "make_converter", "millis_from_datetime"]


_UTC = timezone.utc


def datetime_from_millis(value: object) -> datetime:
    """Turn Meta's epoch milliseconds into an aware UTC datetime.

    Raises:
        ValueError: the value is not a number of milliseconds in datetime's range.
    """
    kind = type(value)
    # Exact types first: the webhook decodes one of these per event.
    if (kind is not int and kind is not float) and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        raise ValueError(f"timestamp must be epoch milliseconds, got {kind.__name__}")
    try:
        return datetime.fromtimestamp(cast(float, value) / 1000.0, _UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"timestamp {value!r} is out of range") from exc


def millis_from_datetime(value: datetime) -> int:
    """Turn a datetime into epoch milliseconds (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return round(value.timestamp() * 1000)


def _is_enum(type_: Any) -> bool:
    return isinstance(type_, type) and issubclass(type_, enum.Enum)


def _enum_value(member: enum.Enum) -> Any:
    return member.value


def _str_or_enum_value(value: str) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def make_converter() -> cattrs.Converter:
    """Build a converter with fmc's wire conventions (see the module docstring)."""
    converter = cattrs.Converter(omit_if_default=True, forbid_extra_keys=False)
    converter.register_unstructure_hook_func(_is_enum, _enum_value)
    # cattrs dispatches on str before it looks for enums, so a str-mixin enum
    # would pass through as the member; this hook hands over its value instead.
    converter.register_unstructure_hook(str, _str_or_enum_value)
    converter.register_unstructure_hook(datetime, millis_from_datetime)
    converter.register_structure_hook(datetime, lambda value, _: datetime_from_millis(value))
    return converter
