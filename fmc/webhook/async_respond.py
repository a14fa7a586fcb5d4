"""The webhook on the event loop: coroutine callbacks awaited, only the commit in a thread.

:func:`respond_async` answers like :meth:`WebhookHandler.respond
<fmc.webhook.handler.WebhookHandler.respond>` and keeps its rule: a delivery's
effects are committed in one store transaction before the 2xx, a commit that
times out is answered 503, and the callbacks run after the commit. The
handshake, the signature check and the parsing are CPU work and run on the
loop; the commit is blocking store I/O and is the only step handed to
``run_blocking`` (a thread). Callbacks that return an awaitable (``async
def``) are awaited in order; plain callbacks are called on the loop, so they
must be cheap (the Channel's own delivery callback only logs and flags a
policy block).

:func:`has_coroutine_callbacks` tells the ASGI adapter which path to take.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fmc.webhook.callbacks import log_delivery_failure, log_event_failure
from fmc.webhook.events import Event
from fmc.webhook.handler import WebhookHandler
from fmc.webhook.request import Headers, Query
from fmc.webhook.response import OK, UNAVAILABLE, Response

__all__ = ["RunBlocking", "has_coroutine_callbacks", "respond_async"]

T = TypeVar("T")

#: Runs a blocking call off the loop and awaits it (``asyncio.to_thread`` fits).
RunBlocking = Callable[[Callable[[], T]], Awaitable[T]]


def has_coroutine_callbacks(handler: WebhookHandler) -> bool:
    """Whether any callback registered on the handler is an ``async def`` function.

    An object whose ``__call__`` is ``async def`` counts too; so does a
    :func:`functools.partial` of a coroutine function.
    """
    return any(
        inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(type(func).__call__)
        for func in handler._callbacks.functions()
    )


async def respond_async(
    handler: WebhookHandler,
    method: str,
    query: Query,
    headers: Headers,
    body: bytes,
    *,
    run_blocking: RunBlocking[Response | list[Event]],
) -> Response:
    """Answer one HTTP request to the webhook URL, awaiting coroutine callbacks.

    Args:
        handler: The webhook handler (its callbacks, store and limits).
        method: The HTTP method.
        query: The query parameters (mapping, or the raw query string).
        headers: The request headers.
        body: The raw body bytes.
        run_blocking: Runs the commit off the loop (e.g. ``asyncio.to_thread``).

    Returns:
        The response, as :meth:`WebhookHandler.respond` would answer it.
    """
    try:
        if not (isinstance(method, str) and method.upper() == "POST"):
            return handler.respond(method, query, headers, body)
        received = handler._receive(query, headers, body)
        if isinstance(received, Response):
            return received
        events, raw, target = received
        fresh = await run_blocking(lambda: handler._commit(events, raw, target))
        if isinstance(fresh, Response):
            return fresh
        if fresh:
            await _dispatch(handler, fresh)
        return OK
    except Exception:
        handler._log.exception("webhook request failed unexpectedly")
        return UNAVAILABLE


async def _dispatch(handler: WebhookHandler, events: list[Event]) -> None:
    """The sync dispatch's order and failure rules, awaiting what returns an awaitable."""
    log, callbacks = handler._log, handler._callbacks
    for on_delivery in callbacks.delivery:
        try:
            await _call(on_delivery, events)
        except Exception:
            log_delivery_failure(log, on_delivery, events)
    for event in events:
        for callback in callbacks.for_event(type(event)):
            try:
                await _call(callback, event)
            except Exception:
                log_event_failure(log, callback, event)


async def _call(callback: Callable[[T], object], argument: T) -> None:
    result = callback(argument)
    if inspect.isawaitable(result):
        await result
