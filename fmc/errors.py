"""The one exception hierarchy of fmc.

Every error fmc raises derives from :class:`FMCError`. Errors answered by the
Graph API become a :class:`GraphAPIError` subclass chosen from the pair
``(code, error_subcode)`` by one table, :data:`GRAPH_ERROR_TABLE`, so the rule
that decides how an error is treated (retried, reported, or marking a
subscriber unreachable) lives in data rather than in branches.

Each row of the table also says whether the error is about the Page (its
token, its permissions, a restriction on it) rather than about the person:
:attr:`GraphAPIError.stops_page` is what a broadcast reads to pause instead of
failing everyone after.

No error text ever contains a page access token or an app secret: the
transport scrubs Graph's answers of the token, the app secret and
``appsecret_proof`` before any error is built from them, and every
:class:`GraphAPIError` also masks anything shaped like a Meta access token in
the message it is given. fmc's own messages name fields and sizes, never values
of secrets.
"""

from __future__ import annotations

import datetime
import importlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fmc._error_table import (
        GRAPH_ERROR_TABLE,
        ErrorRule,
        graph_error_class,
        graph_error_from_response,
    )

__all__ = [
    "GRAPH_ERROR_TABLE",
    "AmbiguousSendError",
    "AuthenticationError",
    "ConfigurationError",
    "ErrorRule",
    "FMCError",
    "ForwardingError",
    "ForwardingRefused",
    "FrequencyCapError",
    "GraphAPIError",
    "InvalidRequestError",
    "NetworkError",
    "OutsideWindowError",
    "PageRestrictedError",
    "PageThrottledError",
    "PayloadError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PolicyRefused",
    "RateLimitError",
    "RecipientUnavailableError",
    "SendTimeoutError",
    "SendWithdrawnError",
    "SignatureError",
    "StoreError",
    "TransientError",
    "UncertainDeliveryError",
    "VerificationError",
    "WebhookError",
    "graph_error_class",
    "graph_error_from_response",
    "mask_access_tokens",
]


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


class SendWithdrawnError(FMCError):
    """The caller withdrew a send just before its HTTP request went out: nothing was sent.

    Raised for a request of :meth:`fmc.Client.send_many` whose ``before_send``
    hook refused it (a broadcast that is stopping, or a claim its run no
    longer holds). Safe to send again later.
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
        message = mask_access_tokens(message)
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
        ``estimated_time_to_regain_access`` (minutes) in ``X-App-Usage``,
        ``X-Page-Usage`` or ``X-Business-Use-Case-Usage``; ``None`` when none
        says.
        """
        from fmc._error_table import retry_after_from_usage

        return retry_after_from_usage(self.usage)

    @property
    def stops_page(self) -> bool:
        """Whether the error is about the Page rather than the person it was sent to.

        ``True`` for every :class:`AuthenticationError` (the token is dead: 190,
        any subcode), a :class:`PageRestrictedError` and the permission errors
        of the Page or app (10, 200–299, 230 …): every later send of the Page
        would fail the same way, so a broadcast should pause, not go on. ``False``
        for errors about one person (outside the window, unavailable), for
        invalid requests, and for rate limits (a pause, see
        :class:`PageThrottledError`). Chosen by :data:`GRAPH_ERROR_TABLE`.
        """
        from fmc._error_table import stops_page

        return stops_page(self)


class RateLimitError(GraphAPIError):
    """Meta throttled the app, the Page or the business (codes 4, 17, 32, 613, 80001–80014 …)."""


class PageThrottledError(RateLimitError):
    """The client is in a shared pause longer than the call may wait; nothing was sent.

    Raised by the client *without* an HTTP request: Meta asked the whole Page
    (or app) to wait, the pause outlasts the client's ``max_pause``, and so the
    call gives up at once instead of hammering Graph. The code, subcode and
    usage headers are those of the throttled answer that started the pause.

    Attributes:
        resume_at: When the pause is expected to end (aware, UTC).
    """

    def __init__(
        self,
        message: str,
        *,
        resume_at: datetime.datetime,
        code: int | None = None,
        subcode: int | None = None,
        type: str | None = None,
        usage: Mapping[str, str] | None = None,
    ) -> None:
        if resume_at.tzinfo is None:
            raise ValueError("resume_at must be an aware datetime")
        super().__init__(message, code=code, subcode=subcode, type=type, usage=usage)
        self.resume_at = resume_at.astimezone(datetime.timezone.utc)

    def __str__(self) -> str:
        return f"{super().__str__()} resume_at={self.resume_at.isoformat()}"

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, resume_at={self.resume_at!r})"


class TransientError(GraphAPIError):
    """A temporary failure on Meta's side (codes 1200, 2, ``is_transient``, HTTP 5xx)."""


class AuthenticationError(GraphAPIError):
    """The access token is invalid, expired or revoked (code 190 …)."""


class PermissionDeniedError(GraphAPIError):
    """The app or Page lacks a permission for this call (codes 10, 200–299, 230)."""


class PageRestrictedError(PermissionDeniedError):
    """Meta restricted the Page from sending for a while (10/1893063; 368, a policy block).

    Every send of the Page fails until Meta lifts the restriction:
    :attr:`~GraphAPIError.stops_page` is ``True``.
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


# Meta's user and Page access tokens start with "EAA" and run to well over a
# hundred letters and digits; nothing else in an error message looks like that.
_ACCESS_TOKEN_SHAPE = re.compile(r"(?<![A-Za-z0-9])EAA[A-Za-z0-9]{20,}(?![A-Za-z0-9])")


def mask_access_tokens(text: str) -> str:
    """Replace every whole word shaped like a Meta access token (``EAA…``) with ``REDACTED``.

    A safety net under the transport's exact redaction: an error built from a
    text that still holds a token (a user's own ``GraphAPIError``, a message
    quoted by another layer) does not carry it into ``str()``, ``repr()``,
    logs or a store.

    Args:
        text: Any text.

    Returns:
        The text, with token-shaped words masked and everything else unchanged.
    """
    if "EAA" not in text:
        return text
    return _ACCESS_TOKEN_SHAPE.sub("REDACTED", text)


#: Names defined in :mod:`fmc._error_table` (the code table and reading Meta's
#: envelope), served from here so that ``fmc.errors`` stays the one import.
_TABLE_NAMES = frozenset(
    {
        "GRAPH_ERROR_TABLE",
        "USAGE_HEADERS",
        "ErrorRule",
        "graph_error_class",
        "graph_error_from_response",
    }
)


def __getattr__(name: str) -> Any:
    if name not in _TABLE_NAMES:
        raise AttributeError(f"module 'fmc.errors' has no attribute {name!r}")
    value = getattr(importlib.import_module("fmc._error_table"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | _TABLE_NAMES)
