"""An ASGI application around a :class:`~fmc.webhook.handler.WebhookHandler`.

For FastAPI, Starlette, uvicorn and friends.

When every callback registered on the handler is a plain function, the whole
handler runs in a worker thread (it may call a store and user code that
blocks). When any callback is a coroutine function (``async def``), the
request is answered on the event loop by
:func:`~fmc.webhook.async_respond.respond_async`: only the delivery's commit
(blocking store I/O) goes to the executor, still before the 2xx, and the
callbacks are awaited after it (plain callbacks then run on the loop, so keep
them cheap). The choice is made per request, so callbacks registered after
``make_app`` count.

Example::

    from fmc.adapters.asgi import make_app
    app = make_app(fmc.WebhookHandler(app_secret=..., verify_token=...))
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import Executor
from typing import Any

from fmc.webhook.async_respond import has_coroutine_callbacks, respond_async
from fmc.webhook.handler import BAD_REQUEST_LENGTH, PAYLOAD_TOO_LARGE, Response, WebhookHandler

__all__ = ["make_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or ``None`` once it grows past ``limit``."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send_response(send: Send, response: Response) -> None:
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in response.headers
    ]
    headers.append((b"content-length", str(len(response.body)).encode("ascii")))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def make_app(handler: WebhookHandler, *, executor: Executor | None = None) -> ASGIApp:
    """Wrap a handler as an ASGI application.

    Args:
        handler: The webhook handler.
        executor: Where the handler (or, with coroutine callbacks, only the
            commit) runs (default: the loop's default executor).

    Returns:
        An ASGI callable serving the webhook at whatever path it is mounted on.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method = str(scope.get("method", "GET"))
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope.get("headers", ())
        ]
        body = b""
        if method.upper() == "POST":
            declared = next(
                (value for name, value in headers if name.lower() == "content-length"), None
            )
            if declared is not None and not declared.strip().isdigit():
                await _send_response(send, BAD_REQUEST_LENGTH)
                return
            if declared is not None and int(declared) > handler.max_body_bytes:
                await _send_response(send, PAYLOAD_TOO_LARGE)
                return
            read = await _read_body(receive, handler.max_body_bytes)
            if read is None:
                await _send_response(send, PAYLOAD_TOO_LARGE)
                return
            body = read
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        loop = asyncio.get_running_loop()
        if has_coroutine_callbacks(handler):
            response = await respond_async(
                handler,
                method,
                query,
                headers,
                body,
                run_blocking=lambda call: loop.run_in_executor(executor, call),
            )
        else:
            call = functools.partial(handler.respond, method, query, headers, body)
            response = await loop.run_in_executor(executor, call)
        await _send_response(send, response)

    return app
