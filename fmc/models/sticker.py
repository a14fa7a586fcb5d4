"""A sticker message: one of Meta's first-party stickers, by id (June 2026)."""

from __future__ import annotations

from typing import Any

import attrs

from fmc.models.limits import ValidationError

__all__ = ["Sticker"]


def _sticker_id(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"Sticker.sticker_id must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValidationError("Sticker.sticker_id must be a positive sticker id")


@attrs.frozen
class Sticker:
    """A sticker, sent as ``{"sticker_id": ...}`` in the Send API's ``message``.

    Meta's Sticker API (changelog, 1 June 2026) lists sticker ids under
    ``GET /sticker_packs`` and ``GET /sticker_search`` (app token); the send
    itself uses the Page token like any message. Incoming stickers arrive as
    a ``sticker`` attachment carrying the same id.

    Attributes:
        sticker_id: The sticker's id, e.g. ``767226160478561``.

    Raises:
        TypeError: The id is not an int.
        ValidationError: The id is not positive.
    """

    sticker_id: int = attrs.field(validator=_sticker_id)
