"""The one exception hierarchy of fmc.

Every error fmc raises derives from :class:`FMCError`. Errors answered by the
Graph API become a :class:`GraphAPIError` subclass chosen from the pair
``(code, error_subcode)`` by one table, :data:`GRAPH_ERROR_TABLE`, so the rule
that decides how an error is treated (retried, reported, or marking a
subscriber unreachable) lives in data rather than in branches.

No error text ever contains a page access token or an app secret: Graph error
messages are kept as Meta sent them, and fmc's own messages name fields and
sizes, never values of secrets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "GRAPH_ERROR_TABLE",
    "AmbiguousSendError",
    "AuthenticationError",
    "ConfigurationError",
    "FMCError",
    "ForwardingError",
    "ForwardingRefused",
    "FrequencyCapError",
    "GraphAPIError",
    "InvalidRequestError",
    "NetworkError",
    "OutsideWindowError",
    "PageRestrictedError",
    "PayloadError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PolicyRefused",
    "RateLimitError",
    "RecipientUnavailableError",
    "SendTimeoutError",
    "SignatureError",
    "StoreError",
    "TransientError",
    "UncertainDeliveryError",
    "VerificationError",
    "WebhookError",
    "graph_error_class",
    "graph_error_from_response",
]

#: Response headers in which Meta reports how much of a rate limit is used.
USAGE_HEADERS = (
    "x-app-usage",
    "x-page-usage",
    "x-business-use-case-usage",
    "x-ad-account-usage",
    "retry-after",
)


class FMCError(Exception):
    """The root of every error fmc raises."""


class ConfigurationError(FMCError, ValueError):
    """A constructor or option was given a value fmc cannot work with."""


class StoreError(FMCError):
    """A subscriber store could not read or write what it was asked to."""


class NetworkError(FMCError):
    """The connection to the Graph API could not be established.

    Raised only when the request cannot have reached Meta (DNS failure,
    connection refused, connect timeout), after the retry policy gave up.
    """


class AmbiguousSendError(FMCError):
    """A send whose request may or may not have reached Meta.

    fmc never blindly retries such a send, because the Send API has no
    idempotency key and the person could get the same message twice. The
    outcome is reported instead, so that a broadcast journal can record it as
    ambiguous.
    """


class SendTimeoutError(AmbiguousSendError):
    """The request was sent but no answer arrived (read timeout, dropped connection)."""


class GraphAPIError(FMCError):
    """An error answered by the Graph API, with Meta's whole error envelope.

    Attributes:
        status: The HTTP status of the answer.
        code: Meta's ``error.code`` (``None`` when the body had no error object).
        subcode: Meta's ``error.error_subcode``.
        type: Meta's ``error.type``, e.g. ``OAuthException``.
        message: Meta's ``error.message``, or a description of an unreadable body.
        fbtrace_id: Meta's trace id, to quote to Meta's support.
        is_transient: Meta's ``error.is_transient`` flag.
        usage: The rate-limit usage headers of the answer, lower-cased names.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        type: str | None = None,
        fbtrace_id: str | None = None,
        is_transient: bool = False,
        usage: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.type = type
        self.fbtrace_id = fbtrace_id
        self.is_transient = is_transient
        self.usage: Mapping[str, str] = dict(usage or {})

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.subcode is not None:
            parts.append(f"subcode={self.subcode}")
        if self.status is not None:
            parts.append(f"http_status={self.status}")
        if self.fbtrace_id:
            parts.append(f"fbtrace_id={self.fbtrace_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"code={self.code!r}, subcode={self.subcode!r}, fbtrace_id={self.fbtrace_id!r})"
        )

    @property
    def retry_after(self) -> float | None:
        """Seconds Meta asks us to wait before calling again, when its headers say so.

        Read from ``Retry-After`` or from the largest
        ``estimated_time_to_regain_access`` (minutes) in
        ``X-Business-Use-Case-Usage``; ``None`` when neither says.
        """
        return _retry_after_from_headers(self.usage)


class RateLimitError(GraphAPIError):
    """Meta throttled the app, the Page or the business (codes 4, 17, 32, 613, 80006 …)."""


class TransientError(GraphAPIError):
    """A temporary failure on Meta's side (codes 1200, 2, ``is_transient``, HTTP 5xx)."""


class AuthenticationError(GraphAPIError):
    """The access token is invalid, expired or revoked (code 190 …)."""


class PermissionDeniedError(GraphAPIError):
    """The app or Page lacks a permission for this call (codes 10, 200–299, 230)."""


class PageRestrictedError(PermissionDeniedError):
    """Meta temporarily restricted the Page from sending (10/1893063, changelog 25 Jun 2026).

    A Page-level stop: every further send of the Page fails the same way until
    the restriction ends, so callers should pause the Page's sends.
    """


class OutsideWindowError(GraphAPIError):
    """The message was sent outside the allowed messaging window (10/2018278, 10/2018065)."""


class RecipientUnavailableError(GraphAPIError):
    """The person cannot be reached: blocked the Page, deactivated, or unknown (551 …)."""


class InvalidRequestError(GraphAPIError):
    """Meta refused the request's parameters (code 100 …)."""


class FrequencyCapError(GraphAPIError):
    """The person got marketing messages too often; skip them (4/2018354, 9/2018352)."""


class UncertainDeliveryError(GraphAPIError, AmbiguousSendError):
    """Meta answered 1/1357046 ("invalid JSON reply"): the send may have gone through."""


class WebhookError(FMCError):
    """A webhook request that fmc refused."""


class SignatureError(WebhookError):
    """The ``X-Hub-Signature-256`` header is missing or does not match the body."""


class VerificationError(WebhookError):
    """The ``hub.challenge`` handshake failed (wrong mode or verify token)."""


class PayloadError(WebhookError, ValueError):
    """The webhook body is not a Messenger delivery (bad JSON, wrong ``object``, broken shape)."""


class PayloadTooLargeError(PayloadError):
    """The webhook body is larger than the handler accepts."""


class ForwardingRefused(FMCError):  # noqa: N818 - the name is the public API
    """A ``redirect_to`` address fmc will not forward to; the message says why."""

    def __init__(self, reason: str, *, url: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url


class ForwardingError(FMCError):
    """A forward that failed after its retries and went to the outbox."""


class PolicyRefused(FMCError):  # noqa: N818 - the name is the public API
    """The messaging policy does not allow this send; ``decision.reason`` says why."""

    def __init__(self, decision: Any) -> None:
        super().__init__(getattr(decision, "reason", str(decision)))
        self.decision = decision


_Row = tuple[int | range, int | None, type[GraphAPIError]]

#: ``(code or code range, subcode or None, class)``. An exact ``(code, subcode)``
#: row wins over a ``(code, None)`` row; codes absent from the table fall back to
#: :class:`TransientError` when Meta flags them transient or the HTTP status is
#: 5xx, else to :class:`GraphAPIError`.
GRAPH_ERROR_TABLE: tuple[_Row, ...] = (
    (1, 99, GraphAPIError),
    (1, 1357046, UncertainDeliveryError),
    (2, None, TransientError),
    (2, 2018344, GraphAPIError),
    (4, None, RateLimitError),
    (4, 2018022, RateLimitError),
    (4, 2018354, FrequencyCapError),
    (9, 2018352, FrequencyCapError),
    (10, None, PermissionDeniedError),
    (10, 2018278, OutsideWindowError),
    (10, 2018065, OutsideWindowError),
    (10, 2018108, RecipientUnavailableError),
    # "Page temporarily restricted from sending" (Messenger changelog, 25 Jun 2026):
    # a Page-level stop like the other permission errors.
    (10, 1893063, PageRestrictedError),
    (17, None, RateLimitError),
    (32, None, RateLimitError),
    (100, None, InvalidRequestError),
    (100, 2018001, RecipientUnavailableError),
    (102, None, AuthenticationError),
    (190, None, AuthenticationError),
    (range(200, 300), None, PermissionDeniedError),
    (200, 1545041, RecipientUnavailableError),
    (230, None, PermissionDeniedError),
    (551, None, RecipientUnavailableError),
    (613, None, RateLimitError),
    (1200, None, TransientError),
    (10303, None, InvalidRequestError),
    (80006, None, RateLimitError),
    # Marketing Messages API for Messenger (API reference, updated 24 Apr 2026):
    # the message's campaign is not active; the message id is invalid or not yours.
    (2300000, None, InvalidRequestError),
    (2300001, None, InvalidRequestError),
)


def _index(table: tuple[_Row, ...]) -> dict[tuple[int, int | None], type[GraphAPIError]]:
    # Ranges first, so that a row for one code inside a range overrides it.
    index: dict[tuple[int, int | None], type[GraphAPIError]] = {}
    for codes, subcode, cls in sorted(table, key=lambda row: not isinstance(row[0], range)):
        for code in codes if isinstance(codes, range) else (codes,):
            index[(code, subcode)] = cls
    return index


_BY_CODE = _index(GRAPH_ERROR_TABLE)


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
            return exact
    if is_transient:
        return TransientError
    if code is not None:
        general = _BY_CODE.get((code, None))
        if general is not None:
            return general
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


def _retry_after_from_headers(usage: Mapping[str, str]) -> float | None:
    retry_after = usage.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    raw = usage.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        decoded = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    minutes: list[float] = []
    if isinstance(decoded, Mapping):
        for entries in decoded.values():
            if not isinstance(entries, list):
                continue
            for entry in entries:
                value = (
                    entry.get("estimated_time_to_regain_access")
                    if isinstance(entry, Mapping)
                    else None
                )
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    minutes.append(float(value))
    return max(minutes) * 60.0 if minutes else None
