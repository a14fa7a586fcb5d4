"""What the webhook answers: a frozen :class:`Response` and the fixed answers it gives.

Every answer is short plain text (``nosniff``), so a reason never renders as
markup in a browser; the fixed ones are built once, at import.
"""

from __future__ import annotations

import attrs

__all__ = [
    "BAD_REQUEST_LENGTH",
    "DUPLICATE_SIGNATURE",
    "NOT_ALLOWED",
    "NOT_COMMITTED",
    "OK",
    "PAYLOAD_TOO_LARGE",
    "UNAVAILABLE",
    "Response",
    "text_response",
]

_TEXT = (("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff"))


@attrs.frozen
class Response:
    """What to answer.

    Attributes:
        status: The HTTP status.
        headers: ``(name, value)`` pairs.
        body: The body bytes.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def text_response(status: int, text: str, *extra: tuple[str, str]) -> Response:
    """A plain-text answer (UTF-8, ``nosniff``), with any ``extra`` headers after those."""
    return Response(status, _TEXT + extra, text.encode("utf-8", "replace"))


#: The 200 for a delivery.
OK = text_response(200, "EVENT_RECEIVED")
#: The 413 answer; adapters send it when a declared length is already over the limit.
PAYLOAD_TOO_LARGE = text_response(413, "body too large")
#: The 400 answer for an unreadable ``Content-Length``.
BAD_REQUEST_LENGTH = text_response(400, "bad request: invalid Content-Length")
#: The 405 for a method other than GET and POST.
NOT_ALLOWED = text_response(405, "method not allowed", ("Allow", "GET, POST"))
#: The 503 for an unexpected internal failure (Meta delivers again later).
UNAVAILABLE = text_response(503, "temporarily unavailable")
#: The 503 for a delivery the store could not commit in time.
NOT_COMMITTED = text_response(503, "temporarily unavailable: the delivery could not be stored")
#: The 403 for a signature header given twice.
DUPLICATE_SIGNATURE = text_response(403, "forbidden: repeated signature header")
