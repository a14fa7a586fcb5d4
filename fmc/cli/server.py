"""The development web server behind ``fmc serve`` and ``fmc demo``.

It is the standard library's :mod:`wsgiref` server with one thread per
request (:class:`socketserver.ThreadingMixIn`), serving a Channel's webhook
through :func:`fmc.adapters.wsgi.make_app`. It is meant for development and
demos: for production, run the same ``make_app(channel.webhook)`` under a
production WSGI server such as gunicorn or waitress.

Request lines are logged without their query string: the webhook handshake
carries the verify token there.
"""

from __future__ import annotations

import logging
import socketserver
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from fmc.adapters.wsgi import make_app
from fmc.webhook import WebhookHandler

__all__ = ["WebhookServer"]

_log = logging.getLogger("fmc.cli.server")


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    # Non-daemon request threads that server_close() joins: a stop lets the
    # requests in flight finish instead of cutting them off.
    daemon_threads = False
    block_on_close = True


class _RequestHandler(WSGIRequestHandler):
    # A client that never finishes its request cannot hold up a stop forever.
    timeout = 10.0

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        _log.info("%s %s %s %s", self.address_string(), self.command, path, code)

    def log_message(self, format: str, *args: Any) -> None:
        # Messages from http.server may quote the request line (and its query).
        _log.debug("request from %s could not be served", self.address_string())


class WebhookServer:
    """A webhook handler served over HTTP by a threaded ``wsgiref`` server.

    Args:
        handler: The webhook handler (usually ``channel.webhook``).
        host: The address to listen on.
        port: The port; 0 picks an ephemeral one.

    Example:
        >>> server = WebhookServer(handler, port=0)  # doctest: +SKIP
        >>> server.start(); print(server.url); server.stop()  # doctest: +SKIP
    """

    def __init__(self, handler: WebhookHandler, *, host: str = "127.0.0.1", port: int = 8080):
        self._server = make_server(
            host,
            port,
            make_app(handler),
            server_class=_ThreadingWSGIServer,
            handler_class=_RequestHandler,
        )
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"WebhookServer(url={self.url!r})"

    @property
    def port(self) -> int:
        """The port listened on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The webhook's URL, e.g. ``http://127.0.0.1:8080/``."""
        host = str(self._server.server_address[0])
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/"

    def start(self) -> WebhookServer:
        """Serve in a background thread.

        Returns:
            The server itself.
        """
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"fmc-webhook-{self.port}",
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, let requests in flight finish, and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> WebhookServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
