"""The store's argument checks: attrs validators of its value types, and page sizes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

__all__ = ["aware", "aware_with_offset", "check_page_size", "non_empty"]


def aware(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A datetime with a time zone."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{attribute.name} must be a timezone-aware datetime")


def aware_with_offset(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A datetime with a time zone that gives it an offset (the newer-wins times compare)."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be a timezone-aware datetime")


def non_empty(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A string that is not empty."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name} must be a non-empty string")


def check_page_size(page_size: int) -> None:
    """Refuse a page size below one (every paged read takes one)."""
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, not {page_size!r}")
