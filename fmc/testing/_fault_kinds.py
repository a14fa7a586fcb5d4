"""What goes wrong in a fault, as data: kinds, Meta's error fields, and the options' forms.

:mod:`fmc.testing.faults` builds :class:`~fmc.testing.Fault` from these; the
tables say which error Meta answers for each kind and code, and how each option
of a fault's text form (``rate_limit:ratio=0.1``) and JSON form is read.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

__all__ = [
    "DEFAULT_CODE",
    "DROP_EXCEPTIONS",
    "ERRORS",
    "MALFORMED_SHAPES",
    "OPTION_TYPES",
    "PER_REQUEST_ONLY",
    "FaultKind",
    "FaultWhen",
    "Per",
    "headers",
    "number_text",
]


class FaultKind(str, enum.Enum):
    """What goes wrong."""

    RATE_LIMIT = "rate_limit"
    TRANSIENT = "transient"
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"
    ERROR = "error"
    MALFORMED = "malformed"
    DROP_BEFORE = "drop_before"
    DROP_AFTER = "drop_after"
    LATENCY = "latency"


class Per(str, enum.Enum):
    """What one call is, for counting and drawing."""

    SEND = "send"
    REQUEST = "request"


class FaultWhen(TypedDict, total=False):
    """When a fault fires: keyword arguments most :class:`~fmc.testing.Fault` constructors share.

    ``Fault.rate_limit``, ``transient``, ``server_error``, ``error`` and
    ``malformed`` take them all; ``drop`` and ``latency`` all but ``per`` (they
    apply per HTTP request); ``unavailable`` only its ``psids``.

    Attributes:
        ratio: Fire on this fraction of matching calls (seeded draws).
        times: Fire on the next this many matching calls only.
        psids: Only for calls to these recipients.
        per: ``"send"`` (one Send API call, alone or in a batch) or ``"request"``
            (one HTTP request).
    """

    ratio: float | None
    times: int | None
    psids: Iterable[str] | None
    per: Per | str


#: Malformed reply shapes, and whether the send behind each was delivered by default.
MALFORMED_SHAPES: Mapping[str, bool] = {
    "html": False,
    "empty": False,
    "truncated": True,
    "wrong_shape": True,
    "error_200": False,
}

#: How a dropped connection reaches a ``requests`` caller in the requests-mock form.
DROP_EXCEPTIONS = ("connection_error", "connect_timeout", "read_timeout")

#: The kinds that apply per HTTP request only.
PER_REQUEST_ONLY = (FaultKind.DROP_BEFORE, FaultKind.DROP_AFTER, FaultKind.LATENCY)

#: Default (code, subcode, message, HTTP status, transient) per error kind and code.
ERRORS: Mapping[tuple[FaultKind, int], tuple[int | None, str, int, bool]] = {
    (FaultKind.RATE_LIMIT, 613): (
        None,
        "(#613) Calls to this API have exceeded the rate limit.",
        400,
        False,
    ),
    (FaultKind.RATE_LIMIT, 4): (None, "(#4) Application request limit reached", 400, False),
    (FaultKind.RATE_LIMIT, 80006): (
        None,
        "(#80006) There have been too many messages sent to this Messenger account. "
        "Please wait a while before sending more messages.",
        400,
        False,
    ),
    (FaultKind.TRANSIENT, 2): (
        None,
        "An unexpected error has occurred. Please retry your request later.",
        500,
        True,
    ),
    (FaultKind.TRANSIENT, 1200): (
        None,
        "(#1200) Temporary send message failure. Please try again later",
        400,
        True,
    ),
    (FaultKind.UNAVAILABLE, 551): (
        1545041,
        "(#551) This person isn't available right now.",
        400,
        False,
    ),
}

#: The error code of each error kind when none is given.
DEFAULT_CODE: Mapping[FaultKind, int] = {
    FaultKind.RATE_LIMIT: 613,
    FaultKind.TRANSIENT: 2,
    FaultKind.UNAVAILABLE: 551,
    FaultKind.ERROR: 100,
}


def headers(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Response headers as ``(name, value)`` pairs of strings."""
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(name), str(text)) for name, text in items)


def number_text(value: float) -> str:
    """A number as a header writes it: ``60``, not ``60.0``."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not a boolean")


def _psid_option(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(filter(None, value.split("|")))
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(str(item) for item in value)
    raise ValueError(f"psids must be a list or a |-separated string, not {value!r}")


def _header_option(value: object) -> tuple[tuple[str, str], ...]:
    if isinstance(value, Mapping):
        return headers(value)
    raise ValueError("headers must be an object")


#: Each option of a fault's text and JSON forms, and how its value is read.
OPTION_TYPES: Mapping[str, Any] = {
    "ratio": float,
    "times": int,
    "psids": _psid_option,
    "per": Per,
    "code": int,
    "subcode": int,
    "message": str,
    "status": int,
    "is_transient": _bool,
    "error_type": str,
    "headers": _header_option,
    "shape": str,
    "delivered": _bool,
    "delay": float,
    "exception": str,
    "retry_after": float,
    "usage": _bool,
}
