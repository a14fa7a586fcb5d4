"""Field readers for webhook builders: each checks one field's shape with ``type() is``.

A field of the wrong shape raises :class:`ShapeError` naming it; the builders
in :mod:`fmc.webhook.kinds` and :mod:`fmc.webhook.feedback` use these readers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from fmc.convert import datetime_from_millis

if TYPE_CHECKING:
    from fmc.webhook.events import Event

__all__ = [
    "SECONDS_BELOW",
    "Fields",
    "ShapeError",
    "millis",
    "obj",
    "opt_id",
    "opt_list",
    "opt_millis",
    "opt_number",
    "opt_str",
    "party",
    "req_id",
    "req_str",
]

#: What an event builder returns: the event class (called with the envelope
#: and these fields) and the fields of its own kind.
Fields = tuple[Callable[..., "Event"], dict[str, Any]]

#: The wire types a field may also arrive as an int for: ids (str) and numbers (float).
_Widened = TypeVar("_Widened", str, float)

#: Milliseconds per second, to hand a timestamp given in seconds to the converter.
_MS_PER_SECOND = 1000


class ShapeError(Exception):
    """A known event kind with a field of the wrong shape; the message says which."""


#: Epoch values below this are seconds, not milliseconds. Meta documents
#: milliseconds, but some deliveries (and other SDKs' fixtures) carry seconds;
#: read as milliseconds they land in January 1970 and a referral would never
#: open the window. 10**11 ms is March 1973 and 10**11 s is the year 5138, so
#: no real instant of either reading is mistaken for the other.
SECONDS_BELOW = 10**11


def millis(value: Any, name: str) -> datetime:
    """An epoch timestamp as an aware UTC datetime: milliseconds, or seconds when small.

    Values whose magnitude is below :data:`SECONDS_BELOW` are taken as
    seconds (see there why), all others as milliseconds; the conversion is
    :func:`fmc.convert.datetime_from_millis`, the one fmc uses everywhere.

    Raises:
        ShapeError: not a number, or out of range.
    """
    kind = type(value)
    if kind is not int and kind is not float:
        raise ShapeError(f"{name} must be epoch milliseconds (or seconds)")
    if -SECONDS_BELOW < value < SECONDS_BELOW:
        value *= _MS_PER_SECOND
    try:
        return datetime_from_millis(value)
    except ValueError:
        raise ShapeError(f"{name} is out of range") from None


def opt_millis(data: dict[str, Any], key: str) -> datetime | None:
    """``data[key]`` as a timestamp, ``None`` when absent."""
    value = data.get(key)
    return None if value is None else millis(value, key)


def opt_str(data: dict[str, Any], key: str) -> str | None:
    """``data[key]`` as a string, ``None`` when absent."""
    value = data.get(key)
    if value is None or type(value) is str:
        return value
    raise ShapeError(f"{key} must be a string")


def req_str(data: dict[str, Any], key: str) -> str:
    """``data[key]``, which must be a string."""
    value = data.get(key)
    if type(value) is str:
        return value
    raise ShapeError(f"{key} must be a string")


def _opt_widened(
    data: dict[str, Any], key: str, wanted: type[_Widened], what: str
) -> _Widened | None:
    """``data[key]`` of type ``wanted``, or an int converted to it; ``None`` when absent."""
    value = data.get(key)
    kind = type(value)
    if value is None or kind is wanted:
        return value
    if kind is int:
        return wanted(value)
    raise ShapeError(f"{key} must be {what}")


def opt_id(data: dict[str, Any], key: str) -> str | None:
    """Ids are strings on the wire, but some (``app_id``) arrive as numbers."""
    return _opt_widened(data, key, str, "an id")


def req_id(data: dict[str, Any], key: str) -> str:
    """``data[key]``, which must be an id."""
    value = opt_id(data, key)
    if value is None:
        raise ShapeError(f"{key} is missing")
    return value


def opt_number(data: dict[str, Any], key: str) -> float | None:
    """``data[key]`` as a float, ``None`` when absent."""
    return _opt_widened(data, key, float, "a number")


def opt_list(data: dict[str, Any], key: str) -> list[Any]:
    """``data[key]``, which must be a list; an empty one when absent."""
    value = data.get(key)
    if value is None:
        return []
    if type(value) is not list:
        raise ShapeError(f"{key} must be a list")
    return value


def obj(value: Any, name: str) -> dict[str, Any]:
    """``value``, which must be a JSON object."""
    if type(value) is dict:
        return value
    raise ShapeError(f"{name} must be an object")


def party(item: dict[str, Any], key: str) -> str | None:
    """The ``id`` of ``sender`` / ``recipient``, ``None`` when absent.

    Raises:
        ShapeError: the party is not an object, or its id not an id.
    """
    party = item.get(key)
    if party is None:
        return None
    if type(party) is not dict:
        raise ShapeError(f"{key} must be an object")
    return opt_id(party, "id")
