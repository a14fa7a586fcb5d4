"""A WSGI application around a :class:`~fmc.webhook.handler.WebhookHandler`.

For Flask, Django, gunicorn and any other WSGI server.

Example::

    from fmc.adapters.wsgi import make_app
    app = make_app(fmc.WebhookHandler(app_secret=..., verify_token=...))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from fmc.webhook.handler import BAD_REQUEST_LENGTH, PAYLOAD_TOO_LARGE, Response, WebhookHandler

__all__ = ["make_app", "read_body"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    """Read a request body, honouring ``CONTENT_LENGTH`` and a size limit.

    Args:
        environ: The WSGI environ.
        limit: The most bytes accepted.

    Returns:
        The body, or ``None`` when it is (or declares to be) over ``limit``.

    Raises:
        ValueError: ``CONTENT_LENGTH`` is not a non-negative integer.
    """
    stream = environ.get("wsgi.input")
    declared = (environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        length = int(declared)
        if length < 0:
            raise ValueError("negative CONTENT_LENGTH")
        if length > limit:
            return None
    elif environ.get("wsgi.input_terminated"):
        # A chunked body the server terminates for us: read one byte past the limit to see it.
        length = limit + 1
    else:
        return b""
    if stream is None:
        return b""
    chunks = []
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(remaining, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    body = b"".join(chunks)
    return None if len(body) > limit else body


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [
        (key[5:].replace("_", "-"), value)
        for key, value in environ.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    ]
    content_type = environ.get("CONTENT_TYPE")
    if content_type:
        headers.append(("Content-Type", content_type))
    return headers


def make_app(handler: WebhookHandler) -> WSGIApp:
    """Wrap a handler as a WSGI application.

    Args:
        handler: The webhook handler.

    Returns:
        A WSGI callable serving the webhook at whatever path it is mounted on.
    """

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        body = b""
        response: Response | None = None
        if method.upper() == "POST":
            try:
                read = read_body(environ, handler.max_body_bytes)
            except ValueError:
                response = BAD_REQUEST_LENGTH
            else:
                if read is None:
                    response = PAYLOAD_TOO_LARGE
                else:
                    body = read
        if response is None:
            response = handler.respond(
                method, str(environ.get("QUERY_STRING", "")), _headers(environ), body
            )
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(_status_line(response.status), headers)
        return [response.body]

    return app
