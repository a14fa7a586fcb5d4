"""fmc serve and its development server: the webhook over HTTP, a clean stop on signals."""

from __future__ import annotations

import http.server
import logging
import os
import queue
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlencode

import pytest
from cli_support import APP_SECRET, PAGE_ID, SECRETS, VERIFY_TOKEN, Runner

from fmc.cli.server import WebhookServer
from fmc.store import SQLiteStore
from fmc.testing import message_event, signed_delivery, verification_query
from fmc.webhook import WebhookHandler


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


class TestWebhookServer:
    """The threaded wsgiref server in front of a handler."""

    def test_handshake_and_stop(self) -> None:
        """It answers the handshake, and stop() joins its thread and closes the socket."""
        before = set(threading.enumerate())
        server = WebhookServer(WebhookHandler(APP_SECRET, VERIFY_TOKEN), port=0).start()
        try:
            status, body = get(server.url + "?" + urlencode(verification_query(VERIFY_TOKEN, "c")))
        finally:
            server.stop()
        assert (status, body) == (200, b"c")
        assert set(threading.enumerate()) - before == set()
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection(("127.0.0.1", server.port), 1),
        ):
            pass

    def test_request_log_leaves_out_the_query(self, caplog: pytest.LogCaptureFixture) -> None:
        """The verify token in the handshake's query string is never logged."""
        caplog.set_level(logging.DEBUG, logger="fmc.cli.server")
        with WebhookServer(WebhookHandler(APP_SECRET, VERIFY_TOKEN), port=0) as server:
            get(server.url + "?" + urlencode(verification_query(VERIFY_TOKEN)))
            get(server.url + "?" + urlencode(verification_query("wrong-token-value")))
        assert "GET / 200" in caplog.text
        assert VERIFY_TOKEN not in caplog.text
        assert "wrong-token-value" not in caplog.text

    def test_address_in_use(self) -> None:
        """A taken port is an OSError at construction."""
        with (
            WebhookServer(WebhookHandler(APP_SECRET, VERIFY_TOKEN), port=0) as server,
            pytest.raises(OSError, match="in use"),
        ):
            WebhookServer(WebhookHandler(APP_SECRET, VERIFY_TOKEN), port=server.port)


class TestServeCommand:
    """fmc serve: registers who writes, stops on SIGTERM."""

    def test_serves_until_sigterm(self, fmc: Runner, db: Path) -> None:
        """Deliveries over HTTP register subscribers; SIGTERM stops it with exit 0."""
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        seen: dict[str, object] = {}

        def drive() -> None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    seen["handshake"] = get(url + "?" + urlencode(verification_query(VERIFY_TOKEN)))
                    break
                except OSError:
                    time.sleep(0.05)
            body, headers = signed_delivery(message_event("4242", "hi"), APP_SECRET)
            seen["post"] = post(url, body, headers)
            seen["forged"] = post(
                url, body, {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
            )
            os.kill(os.getpid(), signal.SIGTERM)

        driver = threading.Thread(target=drive)
        driver.start()
        result = fmc("serve", "--port", str(port))
        driver.join(10)
        assert result.code == 0
        assert seen["handshake"] == (200, b"1158201444")
        assert (seen["post"], seen["forged"]) == (200, 403)
        assert f"at {url}" in result.out
        assert "gunicorn" in result.out
        assert "stopped" in result.out
        assert not any(secret in result.out + result.err for secret in SECRETS)
        with SQLiteStore(db) as store:
            assert store.get(PAGE_ID, "4242") is not None

    def test_needs_the_webhook_secrets(self, fmc: Runner, environ: dict[str, str]) -> None:
        """Without an app secret it refuses to start (exit 2) and says what to set."""
        environ = {k: v for k, v in environ.items() if k != "FMC_APP_SECRET"}
        result = fmc("serve", "--port", "0", environ=environ)
        assert result.code == 2
        assert "FMC_APP_SECRET" in result.err

    def test_port_in_use_is_one_line(self, fmc: Runner) -> None:
        """A taken port exits 1 with a hint."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            result = fmc("serve", "--port", str(taken.getsockname()[1]))
        assert result.code == 1
        assert "choose another --port" in result.err
        assert result.err.count("\n") == 1


class _Receiver(http.server.BaseHTTPRequestHandler):
    bodies: ClassVar[queue.Queue[bytes]]

    def do_POST(self) -> None:
        self.bodies.put(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_serve_forwards_to_allowed_hosts(fmc: Runner, environ: dict[str, str]) -> None:
    """With FMC_FORWARD_ALLOW, a delivery goes on to its redirect_to address byte for byte."""
    bodies: queue.Queue[bytes] = queue.Queue()
    handler = type("Receiver", (_Receiver,), {"bodies": bodies})
    receiver = http.server.HTTPServer(("127.0.0.1", 0), handler)
    receiving = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.05})
    receiving.start()
    port = free_port()
    target = f"http://127.0.0.1:{receiver.server_address[1]}/bot"
    body, headers = signed_delivery(message_event("4242", "forward me"), APP_SECRET)
    forwarded: list[bytes] = []

    def drive() -> None:
        url = f"http://127.0.0.1:{port}/?" + urlencode({"redirect_to": target})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                post(url, body, headers)
                break
            except OSError:
                time.sleep(0.05)
        forwarded.append(bodies.get(timeout=10))
        os.kill(os.getpid(), signal.SIGTERM)

    driver = threading.Thread(target=drive)
    driver.start()
    try:
        result = fmc(
            "serve",
            "--port",
            str(port),
            "--allow-private-forwarding",
            environ={**environ, "FMC_FORWARD_ALLOW": "127.0.0.1"},
        )
    finally:
        driver.join(10)
        receiver.shutdown()
        receiver.server_close()
        receiving.join(5)
    assert result.code == 0
    assert "forwarding 127.0.0.1" in result.out
    assert forwarded == [body]
