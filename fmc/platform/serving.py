"""The platform's webhook on WSGI and ASGI servers, through fmc's own adapters.

:meth:`PlatformWebhook.for_app <fmc.platform.PlatformWebhook.for_app>` gives
one app's endpoint as a :class:`~fmc.WebhookHandler` (its handshake uses the
app's verify token, its POSTs are routed per Page), so
:func:`fmc.adapters.wsgi.make_app` and :func:`fmc.adapters.asgi.make_app` serve
it unchanged; :func:`make_wsgi_app` and :func:`make_asgi_app` serve every app
at ``/webhook/<app-id>`` from one mount.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from fmc.adapters import asgi, wsgi
from fmc.adapters.asgi import _lifespan
from fmc.webhook.handler import Headers, Query, Response, WebhookHandler

if TYPE_CHECKING:
    from fmc.platform.records import App
    from fmc.platform.webhook import PlatformWebhook

__all__ = ["AppWebhook", "make_asgi_app", "make_wsgi_app"]

_NOT_FOUND = b"not found: no app is registered at this path"


class AppWebhook(WebhookHandler):
    """One app's webhook endpoint, as a handler the adapters can serve.

    The handshake checks the app's verify token; a POST is verified with the
    app's secrets and routed entry by entry (see :mod:`fmc.platform.webhook`).
    """

    def __init__(self, platform_webhook: PlatformWebhook, app: App) -> None:
        super().__init__(
            app.secrets, app.verify_token, max_body_bytes=platform_webhook.max_body_bytes
        )
        self.app_id = app.id
        self._platform_webhook = platform_webhook

    def __repr__(self) -> str:
        return f"AppWebhook(app={self.app_id!r})"

    def respond(self, method: str, query: Query, headers: Headers, body: bytes) -> Response:
        """Answer one request to this app's webhook (404 once the app is removed)."""
        return self._platform_webhook.respond_app(self.app_id, method, query, headers, body)


def _not_found_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response(
        "404 Not Found",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(_NOT_FOUND)))],
    )
    return [_NOT_FOUND]


def make_wsgi_app(webhook: PlatformWebhook) -> wsgi.WSGIApp:
    """One WSGI application serving every app's webhook at ``<prefix><app-id>``.

    Args:
        webhook: The platform's webhook (``platform.webhook``).

    Returns:
        A WSGI callable; a path that names no registered app is answered 404.
    """

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        app_id = webhook.app_id_of(str(environ.get("PATH_INFO", "")))
        handler = None if app_id is None else webhook.for_app(app_id)
        if handler is None:
            return _not_found_wsgi(environ, start_response)
        return wsgi.make_app(handler)(environ, start_response)

    return app


async def _send_not_found(send: Any) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(_NOT_FOUND)),
    ]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": _NOT_FOUND})


def make_asgi_app(webhook: PlatformWebhook, *, executor: Executor | None = None) -> asgi.ASGIApp:
    """One ASGI application serving every app's webhook at ``<prefix><app-id>``.

    Args:
        webhook: The platform's webhook (``platform.webhook``).
        executor: Where the handlers run (default: the loop's default executor).

    Returns:
        An ASGI callable; a path that names no registered app is answered 404.
    """

    async def app(scope: Any, receive: Any, send: Any) -> None:
        handler = None
        if scope.get("type") == "http":
            app_id = webhook.app_id_of(str(scope.get("path", "")))
            handler = None if app_id is None else webhook.for_app(app_id)
            if handler is None:
                await _send_not_found(send)
                return
        elif scope.get("type") == "lifespan":
            await _lifespan(receive, send)
            return
        if handler is not None:
            await asgi.make_app(handler, executor=executor)(scope, receive, send)

    return app
