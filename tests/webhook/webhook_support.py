"""Helpers for the webhook tests: fixture payloads, signed requests, a loopback receiver."""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs

from fmc.webhook import sign

FIXTURES = Path(__file__).parent / "fixtures"
APP_SECRET = "test-app-secret-5f2b"
VERIFY_TOKEN = "test-verify-token-91c"


def fixture_bytes(name: str) -> bytes:
    """The raw bytes of a fixture payload."""
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_names() -> list[str]:
    """Every fixture payload's name."""
    return sorted(path.stem for path in FIXTURES.glob("*.json"))


def signed_headers(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    """Headers as Facebook sends them with a body."""
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(body, secret),
        "User-Agent": "facebookexternalua",
    }


def delivery(*items: dict[str, Any], page_id: str = "106437718793432") -> bytes:
    """A one-entry delivery body holding the given messaging items."""
    body = {"object": "page", "entry": [{"id": page_id, "time": 1, "messaging": list(items)}]}
    return json.dumps(body).encode()


def text_item(mid: str, text: str = "hi", sender: str = "6514567891234567") -> dict[str, Any]:
    """A messaging item for a text message."""
    return {
        "sender": {"id": sender},
        "recipient": {"id": "106437718793432"},
        "timestamp": 1717171716999,
        "message": {"mid": mid, "text": text},
    }


@attrs.define
class Received:
    """One request the loopback receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@attrs.define
class Receiver:
    """A loopback HTTP receiver that records requests and answers scripted statuses."""

    server: ThreadingHTTPServer
    received: list[Received] = attrs.field(factory=list)
    statuses: list[int] = attrs.field(factory=list)
    extra_headers: dict[str, str] = attrs.field(factory=dict)
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    gate: threading.Event = attrs.field(factory=threading.Event)
    arrived: threading.Event = attrs.field(factory=threading.Event)

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.server.server_address[1])

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        """A URL pointing at the receiver."""
        return f"http://{host}:{self.port}{path}"


def start_receiver(tls: tuple[str, str] | None = None) -> tuple[Receiver, threading.Thread]:
    """Start a recording HTTP(S) server on 127.0.0.1 (answers 200 unless statuses are scripted).

    ``tls`` is ``(certificate path, key path)`` to serve HTTPS.
    """
    holder: list[Receiver] = []

    class Handle(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state = holder[0]
            state.arrived.set()
            state.gate.wait(10)
            with state.lock:
                state.received.append(Received(self.path, dict(self.headers.items()), body))
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            for name, value in state.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    holder.append(Receiver(server))
    holder[0].gate.set()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    return holder[0], thread
