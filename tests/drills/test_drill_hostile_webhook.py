"""Drill: oversized bodies and forged signatures at the webhook.

A 10 MB body is answered 413 at once, without being read into memory (in
process, through the WSGI and ASGI adapters, and over a real socket through
the server behind ``fmc serve``). Every signature attack — wrong secret,
truncated or uppercase hex, ``sha1=`` in the sha256 header, two signature
headers, another body's signature, an empty body — is answered 403, and
nothing reaches a callback.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import socket
import time
import tracemalloc
from collections.abc import Iterator, MutableMapping
from typing import Any

import drill_support as ds
import pytest

import fmc
from fmc.adapters import asgi, wsgi
from fmc.cli.server import WebhookServer
from fmc.testing import message_event, signed_delivery

TEN_MB = 10 * 1024 * 1024
LIMIT = 1024 * 1024


@pytest.fixture
def handler() -> Iterator[fmc.WebhookHandler]:
    with ds.client("http://127.0.0.1:9") as client:
        webhook = ds.channel(client, fmc.MemoryStore()).webhook
        assert webhook.max_body_bytes == LIMIT
        yield webhook


# -- 10 MB bodies --------------------------------------------------------------------------


class CountingStream(io.RawIOBase):
    """A request body of ``size`` bytes made on demand, counting what is read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.read_bytes)
        buffer[:count] = b"{" * count
        self.read_bytes += count
        return count


def test_a_10_mb_body_is_refused_quickly_in_process(handler: fmc.WebhookHandler) -> None:
    """respond() answers 413 to 10 MB before verifying or parsing anything."""
    body = b"[" * TEN_MB
    headers = {"X-Hub-Signature-256": handler.sign(body)}
    started = time.perf_counter()
    response = handler.respond("POST", {}, headers, body)
    assert response.status == 413
    assert time.perf_counter() - started < 0.05


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_the_wsgi_adapter_never_holds_a_10_mb_body(
    handler: fmc.WebhookHandler, declared: bool
) -> None:
    """413 through WSGI: nothing read when the length is declared, the limit at most otherwise."""
    stream = CountingStream(TEN_MB)
    environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "wsgi.input": stream}
    if declared:
        environ["CONTENT_LENGTH"] = str(TEN_MB)
    else:
        environ["wsgi.input_terminated"] = True
    statuses: list[str] = []
    tracemalloc.start()
    try:
        wsgi.make_app(handler)(environ, lambda status, headers: statuses.append(status))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert statuses == ["413 Request Entity Too Large"]
    assert stream.read_bytes <= (0 if declared else LIMIT + 65536)
    assert peak < 4 * LIMIT


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_the_asgi_adapter_stops_reading_past_the_limit(
    handler: fmc.WebhookHandler, declared: bool
) -> None:
    """413 through ASGI: the body is not received past the limit."""
    chunk = b"{" * 65536
    received = 0
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": received < TEN_MB}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-length", str(TEN_MB).encode())] if declared else []
    scope = {"type": "http", "method": "POST", "headers": headers, "query_string": b""}
    app = asgi.make_app(handler)

    async def call() -> None:
        await app(scope, receive, send)

    asyncio.run(call())
    assert sent[0]["status"] == 413
    assert received <= (0 if declared else LIMIT + len(chunk))


def test_the_served_webhook_answers_413_before_the_body_is_sent(
    handler: fmc.WebhookHandler,
) -> None:
    """Over a socket (``fmc serve``'s server): 413 arrives while the 10 MB are still unsent."""
    with (
        WebhookServer(handler, port=0) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection,
    ):
        started = time.perf_counter()
        connection.sendall(
            b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Content-Length: {TEN_MB}\r\nContent-Type: application/json\r\n\r\n".encode()
        )
        answer = connection.recv(4096)
    assert answer.split(b"\r\n", 1)[0].split(b" ")[1] == b"413"
    assert time.perf_counter() - started < 2


# -- signature attacks ---------------------------------------------------------------------

BODY, GOOD = signed_delivery(
    message_event("111", "hi", timestamp=ds.NOW, mid="m_sig"), ds.APP_SECRET
)
SIGNATURE = GOOD["X-Hub-Signature-256"]
OTHER_BODY, OTHER = signed_delivery(
    message_event("222", "other", timestamp=ds.NOW, mid="m_other"), ds.APP_SECRET
)


def _hmac(secret: str, body: bytes, digest: Any = hashlib.sha256) -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


ATTACKS: list[tuple[str, bytes, Any]] = [
    ("missing", BODY, {}),
    ("wrong-secret", BODY, {"X-Hub-Signature-256": "sha256=" + _hmac("not-the-secret", BODY)}),
    ("empty-secret", BODY, {"X-Hub-Signature-256": "sha256=" + _hmac("", BODY)}),
    ("truncated-hex", BODY, {"X-Hub-Signature-256": SIGNATURE[:-1]}),
    ("half-the-hex", BODY, {"X-Hub-Signature-256": SIGNATURE[: 7 + 32]}),
    ("extended-hex", BODY, {"X-Hub-Signature-256": SIGNATURE + "0"}),
    ("uppercase-hex", BODY, {"X-Hub-Signature-256": "sha256=" + SIGNATURE[7:].upper()}),
    ("uppercase-prefix", BODY, {"X-Hub-Signature-256": "SHA256=" + SIGNATURE[7:]}),
    ("no-prefix", BODY, {"X-Hub-Signature-256": SIGNATURE[7:]}),
    ("prefix-only", BODY, {"X-Hub-Signature-256": "sha256="}),
    ("padded", BODY, {"X-Hub-Signature-256": f" {SIGNATURE} "}),
    ("trailing-newline", BODY, {"X-Hub-Signature-256": SIGNATURE + "\n"}),
    (
        "fullwidth-digits",
        BODY,
        # Every ASCII digit, the "256" of the prefix included, so the header always differs.
        {
            "X-Hub-Signature-256": SIGNATURE.translate(
                {c: c - 0x30 + 0xFF10 for c in range(0x30, 0x3A)}
            )
        },
    ),
    (
        "sha1-in-sha256-header",
        BODY,
        {"X-Hub-Signature-256": "sha1=" + _hmac(ds.APP_SECRET, BODY, hashlib.sha1)},
    ),
    (
        "legacy-sha1-header-only",
        BODY,
        {"X-Hub-Signature": "sha1=" + _hmac(ds.APP_SECRET, BODY, hashlib.sha1)},
    ),
    (
        "two-headers-good-first",
        BODY,
        [("X-Hub-Signature-256", SIGNATURE), ("X-Hub-Signature-256", "sha256=" + "0" * 64)],
    ),
    (
        "two-headers-good-last",
        BODY,
        [("X-Hub-Signature-256", "sha256=" + "0" * 64), ("x-hub-signature-256", SIGNATURE)],
    ),
    ("two-identical-headers", BODY, [("X-Hub-Signature-256", SIGNATURE)] * 2),
    ("list-valued-header", BODY, {"X-Hub-Signature-256": [SIGNATURE, SIGNATURE]}),
    ("comma-joined-headers", BODY, {"X-Hub-Signature-256": f"{SIGNATURE},{SIGNATURE}"}),
    ("another-bodys-signature", BODY, OTHER),
    ("body-with-a-byte-appended", BODY + b" ", GOOD),
    ("body-with-a-byte-removed", BODY[:-1], GOOD),
    ("empty-body", b"", {"X-Hub-Signature-256": "sha256=" + _hmac(ds.APP_SECRET, b"")}),
    ("empty-body-and-header", b"", {"X-Hub-Signature-256": ""}),
]


@pytest.mark.parametrize(("body", "headers"), [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS])
def test_signature_attacks_are_forbidden(
    handler: fmc.WebhookHandler, body: bytes, headers: Any
) -> None:
    """Each forged, malformed or repeated signature is answered 403 and dispatches nothing."""
    seen: list[fmc.Event] = []
    handler.on_any(seen.append)
    response = handler.respond("POST", {}, headers, body)
    assert response.status == 403
    assert seen == []
    assert ds.APP_SECRET.encode() not in response.body


def test_the_genuine_signature_is_accepted(handler: fmc.WebhookHandler) -> None:
    """The control: the same body with its real signature is answered 200."""
    assert handler.respond("POST", {}, GOOD, BODY).status == 200


def test_two_signature_headers_through_wsgi_are_forbidden(handler: fmc.WebhookHandler) -> None:
    """A WSGI server joins repeated headers with a comma: still 403."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(BODY)),
        "wsgi.input": io.BytesIO(BODY),
        "HTTP_X_HUB_SIGNATURE_256": f"{SIGNATURE}, {SIGNATURE}",
    }
    statuses: list[str] = []
    wsgi.make_app(handler)(environ, lambda status, headers: statuses.append(status))
    assert statuses == ["403 Forbidden"]
