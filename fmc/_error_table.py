"""Graph's error code table and the reading of Meta's error envelope.

The public names here are served by :mod:`fmc.errors` (import them from
there): :data:`GRAPH_ERROR_TABLE`, :class:`ErrorRule`,
:func:`graph_error_class` and :func:`graph_error_from_response`. Kept apart
from the hierarchy so that each module holds one idea: what the errors are, and
how an answer from Meta becomes one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from fmc.errors import (
    AuthenticationError,
    FrequencyCapError,
    GraphAPIError,
    InvalidRequestError,
    OutsideWindowError,
    PageRestrictedError,
    PermissionDeniedError,
    RateLimitError,
    RecipientUnavailableError,
    TransientError,
    UncertainDeliveryError,
)

__all__ = [
    "GRAPH_ERROR_TABLE",
    "USAGE_HEADERS",
    "ErrorRule",
    "graph_error_class",
    "graph_error_from_response",
    "retry_after_from_usage",
    "stops_page",
]

#: Response headers in which Meta reports how much of a rate limit is used.
USAGE_HEADERS = (
    "x-app-usage",
    "x-page-usage",
    "x-business-use-case-usage",
    "x-ad-account-usage",
    "retry-after",
)


class ErrorRule(NamedTuple):
    """One row of :data:`GRAPH_ERROR_TABLE`."""

    #: Meta's ``error.code``, or a range of codes.
    codes: int | range
    #: Meta's ``error.error_subcode``, or ``None`` for any other subcode.
    subcode: int | None
    #: The :class:`GraphAPIError` subclass raised.
    cls: type[GraphAPIError]
    #: Whether the error is about the Page (its token, permissions or a
    #: restriction) rather than the person (see :attr:`GraphAPIError.stops_page`).
    stops_page: bool


_R = ErrorRule

#: ``(code or code range, subcode or None, class, stops_page)``. An exact
#: ``(code, subcode)`` row wins over a ``(code, None)`` row; codes absent from
#: the table fall back to :class:`TransientError` when Meta flags them transient
#: or the HTTP status is 5xx, else to :class:`GraphAPIError`, neither of which
#: stops the Page. Sources: Meta's Messenger error codes page (updated
#: Mar 18, 2026), its changelog of Jun 25, 2026 (10/1893063), the Graph API
#: rate-limiting guide (4, 17, 32, 613, 80001–80014) and Graph's error-handling
#: guide (368).
GRAPH_ERROR_TABLE: tuple[ErrorRule, ...] = (
    _R(1, 99, GraphAPIError, False),
    _R(1, 1357046, UncertainDeliveryError, False),
    _R(2, None, TransientError, False),
    _R(2, 2018344, GraphAPIError, False),
    _R(4, None, RateLimitError, False),
    _R(4, 2018022, RateLimitError, False),
    _R(4, 2018354, FrequencyCapError, False),
    _R(9, 2018352, FrequencyCapError, False),
    _R(10, None, PermissionDeniedError, True),
    _R(10, 1893063, PageRestrictedError, True),
    _R(10, 2018278, OutsideWindowError, False),
    _R(10, 2018065, OutsideWindowError, False),
    _R(10, 2018108, RecipientUnavailableError, False),
    _R(17, None, RateLimitError, False),
    _R(32, None, RateLimitError, False),
    _R(100, None, InvalidRequestError, False),
    _R(100, 2018001, RecipientUnavailableError, False),
    _R(102, None, AuthenticationError, True),
    _R(190, None, AuthenticationError, True),
    _R(range(200, 300), None, PermissionDeniedError, True),
    _R(200, 1545041, RecipientUnavailableError, False),
    _R(230, None, PermissionDeniedError, True),
    _R(368, None, PageRestrictedError, True),
    _R(551, None, RecipientUnavailableError, False),
    _R(613, None, RateLimitError, False),
    _R(1200, None, TransientError, False),
    _R(10303, None, InvalidRequestError, False),
    _R(range(80001, 80015), None, RateLimitError, False),
    # Marketing Messages API for Messenger (API reference, updated 24 Apr 2026):
    # the message's campaign is not active; the message id is invalid or not yours.
    _R(2300000, None, InvalidRequestError, False),
    _R(2300001, None, InvalidRequestError, False),
)

#: Classes whose errors are about the Page whatever their code (a hand-made
#: error without a code, or a code the table does not know).
_PAGE_LEVEL_CLASSES: tuple[type[GraphAPIError], ...] = (AuthenticationError, PageRestrictedError)


def _index(table: tuple[ErrorRule, ...]) -> dict[tuple[int, int | None], ErrorRule]:
    # Ranges first, so that a row for one code inside a range overrides it.
    index: dict[tuple[int, int | None], ErrorRule] = {}
    for rule in sorted(table, key=lambda row: not isinstance(row.codes, range)):
        codes = rule.codes
        for code in codes if isinstance(codes, range) else (codes,):
            index[(code, rule.subcode)] = rule
    return index


_BY_CODE = _index(GRAPH_ERROR_TABLE)


def stops_page(error: GraphAPIError) -> bool:
    """Whether an error is about the Page rather than the person (see ``GraphAPIError.stops_page``).

    Args:
        error: Any Graph error.

    Returns:
        ``True`` when the table (or the error's class) says so.
    """
    if isinstance(error, _PAGE_LEVEL_CLASSES):
        return True
    if error.code is None:
        return False
    rule = _BY_CODE.get((error.code, error.subcode)) or _BY_CODE.get((error.code, None))
    # A row speaks for the errors it chose: a hand-made error of another class
    # with the same code (say a RateLimitError with code 10) is not the Page's.
    return rule is not None and rule.stops_page and isinstance(error, rule.cls)


def graph_error_class(
    code: int | None,
    subcode: int | None = None,
    *,
    is_transient: bool = False,
    status: int | None = None,
) -> type[GraphAPIError]:
    """Choose the :class:`GraphAPIError` subclass for an error, by :data:`GRAPH_ERROR_TABLE`."""
    if code is not None:
        exact = _BY_CODE.get((code, subcode))
        if exact is not None:
            return exact.cls
    if is_transient:
        return TransientError
    if code is not None:
        general = _BY_CODE.get((code, None))
        if general is not None:
            return general.cls
    if status is not None and status >= 500:
        return TransientError
    return GraphAPIError


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _usage_headers(headers: Mapping[str, str]) -> dict[str, str]:
    wanted = set(USAGE_HEADERS)
    return {name.lower(): value for name, value in headers.items() if name.lower() in wanted}


def graph_error_from_response(
    status: int, body: bytes | str | Mapping[str, Any] | None, headers: Mapping[str, str]
) -> GraphAPIError:
    """Build the typed error for a failed Graph answer.

    Args:
        status: The HTTP status.
        body: The raw body (bytes or text) or an already-decoded JSON object.
        headers: The response headers (any case).

    Returns:
        The :class:`GraphAPIError` subclass chosen by :func:`graph_error_class`.
        A body that is not a JSON error envelope (an HTML page from a proxy, an
        empty or truncated body) gives an error whose message says so.
    """
    usage = _usage_headers(headers)
    payload: object
    if isinstance(body, Mapping):
        payload = body
    else:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
        try:
            payload = json.loads(text) if text.strip() else None
        except (ValueError, RecursionError):  # RecursionError: a body nested too deep
            payload = None
        if payload is None:
            kind = "an empty body" if not text.strip() else "a body that is not JSON"
            cls = graph_error_class(None, status=status)
            return cls(
                f"Graph API answered HTTP {status} with {kind} ({len(text)} characters)",
                status=status,
                usage=usage,
            )
    error = payload.get("error") if isinstance(payload, Mapping) else None
    if not isinstance(error, Mapping):
        cls = graph_error_class(None, status=status)
        return cls(
            f"Graph API answered HTTP {status} with JSON that has no error object",
            status=status,
            usage=usage,
        )
    code = _as_int(error.get("code"))
    subcode = _as_int(error.get("error_subcode"))
    is_transient = error.get("is_transient") is True
    cls = graph_error_class(code, subcode, is_transient=is_transient, status=status)
    return cls(
        _as_str(error.get("message")) or "Graph API error without a message",
        status=status,
        code=code,
        subcode=subcode,
        type=_as_str(error.get("type")),
        fbtrace_id=_as_str(error.get("fbtrace_id")),
        is_transient=is_transient,
        usage=usage,
    )


#: Usage headers whose JSON may carry ``estimated_time_to_regain_access`` (minutes).
_REGAIN_HEADERS = ("x-app-usage", "x-page-usage", "x-business-use-case-usage")


def _regain_minutes(decoded: object, found: list[float], depth: int = 0) -> None:
    # X-App-Usage and X-Page-Usage are flat objects; X-Business-Use-Case-Usage
    # maps ids to lists of objects. Walk both shapes, no deeper than that.
    if depth > 3:
        return
    if isinstance(decoded, Mapping):
        value = decoded.get("estimated_time_to_regain_access")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            found.append(float(value))
        for nested in decoded.values():
            if isinstance(nested, (Mapping, list)):
                _regain_minutes(nested, found, depth + 1)
    elif isinstance(decoded, list):
        for item in decoded:
            _regain_minutes(item, found, depth + 1)


def retry_after_from_usage(usage: Mapping[str, str]) -> float | None:
    """Seconds Meta asks to wait, read from an answer's usage headers.

    Args:
        usage: Usage headers with lower-case names (see :data:`USAGE_HEADERS`).

    Returns:
        ``Retry-After``, or the largest ``estimated_time_to_regain_access``
        (minutes, turned into seconds) of the usage headers; ``None`` when
        none asks for a wait.
    """
    retry_after = usage.get("retry-after")
    if retry_after is not None:
        try:
            seconds = float(retry_after)
        except ValueError:
            seconds = None
        if seconds is not None and seconds == seconds and seconds != float("inf"):
            return max(0.0, seconds)
    minutes: list[float] = []
    for name in _REGAIN_HEADERS:
        raw = usage.get(name)
        if not raw:
            continue
        try:
            decoded = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        _regain_minutes(decoded, minutes)
    positive = [m for m in minutes if m > 0]
    return max(positive) * 60.0 if positive else None
