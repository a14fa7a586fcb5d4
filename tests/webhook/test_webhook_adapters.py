"""The WSGI and ASGI adapters, driven through Flask/werkzeug, wsgiref on loopback and Starlette."""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from flask import Flask, request
from starlette.applications import Starlette
from starlette.routing import Mount
from webhook_support import APP_SECRET, VERIFY_TOKEN, fixture_bytes, signed_headers
from werkzeug.test import Client

with warnings.catch_warnings():
    # Starlette's test client announces a future httpx change on import; not fmc's concern.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from fmc.adapters import asgi, wsgi
from fmc.webhook import Event, WebhookHandler

HANDSHAKE = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "31337"}


@pytest.fixture
def seen() -> list[Event]:
    """Events the handler dispatched."""
    return []


@pytest.fixture
def handler(seen: list[Event]) -> WebhookHandler:
    """A handler with a small body limit that records its events."""
    handler = WebhookHandler(APP_SECRET, VERIFY_TOKEN, max_body_bytes=4096)
    handler.on_any(seen.append)
    return handler


class TestWSGI:
    def test_handshake(self, handler: WebhookHandler) -> None:
        """GET with the right token answers the challenge."""
        response = Client(wsgi.make_app(handler)).get("/webhook", query_string=HANDSHAKE)
        assert (response.status_code, response.data) == (200, b"31337")

    def test_delivery_dispatched(self, handler: WebhookHandler, seen: list[Event]) -> None:
        """A signed POST is answered 200 and dispatched."""
        body = fixture_bytes("multi_entry")
        response = Client(wsgi.make_app(handler)).post(
            "/webhook", data=body, headers=signed_headers(body)
        )
        assert response.status_code == 200
        assert len(seen) == 5

    def test_bad_signature(self, handler: WebhookHandler) -> None:
        """A wrong signature is 403 through the adapter."""
        body = fixture_bytes("message_text")
        headers = {"X-Hub-Signature-256": "sha256=" + "0" * 64}
        assert (
            Client(wsgi.make_app(handler)).post("/", data=body, headers=headers).status_code == 403
        )

    def test_declared_length_over_limit(self, handler: WebhookHandler) -> None:
        """A Content-Length over the limit is 413 without reading the body."""
        environ = {
            "REQUEST_METHOD": "POST",
            "CONTENT_LENGTH": "999999",
            "wsgi.input": _Unreadable(),
        }
        statuses: list[str] = []
        body = wsgi.make_app(handler)(environ, lambda status, headers: statuses.append(status))
        assert statuses == ["413 Request Entity Too Large"]
        assert b"too large" in b"".join(body)

    def test_bad_content_length(self, handler: WebhookHandler) -> None:
        """An unreadable Content-Length is 400."""
        statuses: list[str] = []
        environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "abc", "wsgi.input": _Unreadable()}
        wsgi.make_app(handler)(environ, lambda status, headers: statuses.append(status))
        assert statuses[0].startswith("400")

    def test_method_not_allowed(self, handler: WebhookHandler) -> None:
        """PUT is 405 through the adapter."""
        assert Client(wsgi.make_app(handler)).put("/", data=b"x").status_code == 405

    def test_inside_flask(self, handler: WebhookHandler, seen: list[Event]) -> None:
        """The handler serves a Flask route in a few lines."""
        app = Flask(__name__)

        @app.route("/webhook", methods=["GET", "POST"])
        def webhook() -> Any:
            answer = handler.respond(
                request.method,
                request.args.to_dict(flat=False),
                request.headers,
                request.get_data(),
            )
            return answer.body, answer.status, list(answer.headers)

        client = app.test_client()
        assert client.get("/webhook", query_string=HANDSHAKE).data == b"31337"
        body = fixture_bytes("postback")
        assert client.post("/webhook", data=body, headers=signed_headers(body)).status_code == 200
        assert len(seen) == 1


class _Unreadable:
    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body must not be read")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def wsgi_server(handler: WebhookHandler) -> Iterator[str]:
    """The WSGI adapter served by wsgiref on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, wsgi.make_app(handler), handler_class=_QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/webhook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class TestWSGIOnLoopback:
    def test_real_http_round_trip(self, wsgi_server: str, seen: list[Event]) -> None:
        """Over real HTTP: handshake, a delivery, a forged one and an oversized one."""
        with requests.Session() as session:
            assert session.get(wsgi_server, params=HANDSHAKE, timeout=5).text == "31337"
            body = fixture_bytes("message_text")
            assert (
                session.post(
                    wsgi_server, data=body, headers=signed_headers(body), timeout=5
                ).status_code
                == 200
            )
            forged = {"X-Hub-Signature-256": "sha256=" + "1" * 64}
            assert (
                session.post(wsgi_server, data=body, headers=forged, timeout=5).status_code == 403
            )
            assert session.post(wsgi_server, data=b" " * 5000, timeout=5).status_code == 413
        assert len(seen) == 1


class TestASGI:
    def test_handshake(self, handler: WebhookHandler) -> None:
        """GET with the right token answers the challenge."""
        with TestClient(asgi.make_app(handler)) as client:
            response = client.get("/webhook", params=HANDSHAKE)
        assert (response.status_code, response.content) == (200, b"31337")

    def test_delivery_dispatched(self, handler: WebhookHandler, seen: list[Event]) -> None:
        """A signed POST is answered 200 and dispatched."""
        body = fixture_bytes("multi_entry")
        with TestClient(asgi.make_app(handler)) as client:
            response = client.post("/webhook", content=body, headers=signed_headers(body))
        assert response.status_code == 200
        assert response.text == "EVENT_RECEIVED"
        assert len(seen) == 5

    def test_runs_off_the_event_loop(self, handler: WebhookHandler) -> None:
        """Callbacks run in a worker thread, not the event loop's thread."""
        threads: list[str] = []
        handler.on_any(lambda event: threads.append(threading.current_thread().name))
        body = fixture_bytes("message_text")
        loop_thread: list[str] = []

        async def probe(scope: Any, receive: Any, send: Any) -> None:
            loop_thread.append(threading.current_thread().name)
            await asgi.make_app(handler)(scope, receive, send)

        with TestClient(probe) as client:
            client.post("/", content=body, headers=signed_headers(body))
        assert threads
        assert threads[0] != loop_thread[0]

    def test_bad_signature(self, handler: WebhookHandler) -> None:
        """A wrong signature is 403 through the adapter."""
        with TestClient(asgi.make_app(handler)) as client:
            response = client.post(
                "/", content=b"{}", headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}
            )
        assert response.status_code == 403

    def test_declared_length_over_limit(self, handler: WebhookHandler) -> None:
        """A body over the limit is 413."""
        with TestClient(asgi.make_app(handler)) as client:
            assert client.post("/", content=b" " * 5000).status_code == 413

    def test_streamed_body_over_limit(self, handler: WebhookHandler) -> None:
        """A chunked body growing past the limit is 413."""

        def chunks() -> Iterator[bytes]:
            for _ in range(10):
                yield b" " * 1000

        with TestClient(asgi.make_app(handler)) as client:
            assert client.post("/", content=chunks()).status_code == 413

    def test_bad_content_length(self, handler: WebhookHandler) -> None:
        """A non-numeric Content-Length is 400."""
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "headers": [(b"content-length", b"x")],
            "query_string": b"",
        }
        asyncio.run(asgi.make_app(handler)(scope, receive, send))
        assert messages[0]["status"] == 400

    def test_mounted_in_starlette(self, handler: WebhookHandler, seen: list[Event]) -> None:
        """The ASGI app mounts inside a Starlette application."""
        app = Starlette(routes=[Mount("/webhook", app=asgi.make_app(handler))])
        body = fixture_bytes("read")
        with TestClient(app) as client:
            assert client.get("/webhook/", params=HANDSHAKE).text == "31337"
            assert (
                client.post("/webhook/", content=body, headers=signed_headers(body)).status_code
                == 200
            )
        assert len(seen) == 1

    def test_other_scopes_ignored(self, handler: WebhookHandler) -> None:
        """A websocket scope is not answered as HTTP."""
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        async def receive() -> Any:
            return {}

        asyncio.run(asgi.make_app(handler)({"type": "websocket"}, receive, send))
        assert sent == []
