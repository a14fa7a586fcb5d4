"""The cattrs converter at fmc's edge: models to Graph JSON and back.

One factory, :func:`make_converter`, configures the wire conventions every
layer shares: fields left at ``None`` are omitted, enums travel as their wire
values, and datetimes travel as epoch milliseconds (Meta's ``timestamp`` and
``watermark`` fields) and come back as timezone-aware UTC datetimes. Layers
register their own hooks on the converter they build from this factory.
"""

from __future__ import annotations

from datetime import datetime, timezone

import cattrs

__all__ = ["datetime_from_millis", "make_converter", "millis_from_datetime"]


def datetime_from_millis(value: object) -> datetime:
    """Turn Meta's epoch milliseconds into an aware UTC datetime.

    Raises:
        ValueError: the value is not a number of milliseconds in datetime's range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"timestamp must be epoch milliseconds, got {type(value).__name__}")
    try:
        return datetime.fromtimestamp(value / 1000.0, tz=timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"timestamp {value!r} is out of range") from exc


def millis_from_datetime(value: datetime) -> int:
    """Turn a datetime into epoch milliseconds (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return round(value.timestamp() * 1000)


def make_converter() -> cattrs.Converter:
    """Build a converter with fmc's wire conventions (see the module docstring)."""
    converter = cattrs.Converter(omit_if_default=True, forbid_extra_keys=False)
    converter.register_unstructure_hook(datetime, millis_from_datetime)
    converter.register_structure_hook(datetime, lambda value, _: datetime_from_millis(value))
    return converter
