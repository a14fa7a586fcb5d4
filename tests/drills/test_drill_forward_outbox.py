"""Drill: the forwarding receiver goes down, fmc restarts, the receiver comes back.

Deliveries from five people are forwarded to a loopback receiver (a real
``http.server``). The receiver goes down (connection refused) for a while; fmc
keeps what it cannot deliver in the durable outbox (the SQLite store), is
closed and reopened on the same file in the middle of the outage, and once the
receiver is back every delivery arrives, byte for byte with a valid signature,
in order per sender.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import drill_support as ds
import pytest

import fmc
from fmc.testing import message_event, signed_delivery
from fmc.webhook.forward import ForwardRetry

SENDERS = 5
PER_SENDER = 24


class Receiver:
    """A loopback webhook receiver that can go down and come back on the same port."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str | None]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.up()

    def up(self) -> None:
        received, lock = self.received, self._lock

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    received.append((body, self.headers.get("X-Hub-Signature-256")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def count(self) -> int:
        with self._lock:
            return len(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    if running._server is not None:
        running.down()


class Fmc:
    """The webhook side of fmc on one SQLite file: store, forwarder, channel, handler."""

    def __init__(self, db: Path) -> None:
        self.store = fmc.SQLiteStore(db)
        self.forwarder = fmc.Forwarder(
            ["127.0.0.1"],
            allow_private=True,
            outbox=self.store,
            timeout=(0.5, 2.0),
            retry=ForwardRetry(
                attempts=2,
                wait_initial=0.001,
                wait_max=0.001,
                wait_jitter=0,
                outbox_wait_initial=timedelta(milliseconds=20),
                outbox_wait_max=timedelta(milliseconds=100),
            ),
            sleep=lambda _: None,
            drain_interval=0.02,
        )
        self.forwarder.start()
        self.client = ds.client("http://127.0.0.1:9")  # never called: the drill only receives
        self.handler = ds.channel(self.client, self.store, forwarder=self.forwarder).webhook

    def post(self, body: bytes, headers: dict[str, str], url: str) -> None:
        response = self.handler.respond("POST", {"redirect_to": url}, headers, body)
        assert response.status == 200

    def close(self) -> None:
        self.forwarder.close()
        self.client.close()
        self.store.close()


def _deliveries() -> list[tuple[str, int, bytes, dict[str, str]]]:
    """Every sender's messages, interleaved: (psid, number, body, headers)."""
    out = []
    for number in range(PER_SENDER):
        for sender in range(SENDERS):
            psid = f"f{sender}"
            at = ds.NOW - timedelta(minutes=30) + timedelta(seconds=number)
            event = message_event(psid, f"{psid}:{number}", timestamp=at, mid=f"m_{psid}_{number}")
            body, headers = signed_delivery(event, ds.APP_SECRET)
            out.append((psid, number, body, headers))
    return out


def _wait(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.slow
def test_outbox_survives_an_outage_and_a_restart_in_order(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Receiver down, fmc restarted mid-outage, receiver back: all arrive, in order per sender."""
    db = tmp_path / "drill.db"
    deliveries = _deliveries()
    first, second, third = deliveries[:30], deliveries[30:80], deliveries[80:]

    app = Fmc(db)
    for _, _, body, headers in first:
        app.post(body, headers, receiver.url)
    _wait(lambda: receiver.count() == len(first))

    receiver.down()
    for _, _, body, headers in second:
        app.post(body, headers, receiver.url)
    assert app.forwarder.flush(30)
    assert app.store.outbox_count() == len(second)
    app.close()  # fmc restarts in the middle of the outage

    app = Fmc(db)
    assert app.store.outbox_count() == len(second)
    for _, _, body, headers in third[:20]:
        app.post(body, headers, receiver.url)
    assert app.forwarder.flush(30)
    time.sleep(0.1)  # the drain keeps failing while the receiver is down
    assert receiver.count() == len(first)

    receiver.up()
    for _, _, body, headers in third[20:]:
        app.post(body, headers, receiver.url)
    _wait(lambda: receiver.count() >= len(deliveries) and app.store.outbox_count() == 0)
    app.close()

    bodies = [body for body, _ in receiver.received]
    assert sorted(bodies) == sorted(body for *_, body, _ in deliveries), "each exactly once"
    for body, signature in receiver.received:
        fmc.verify_signature(body, signature, ds.APP_SECRET)
    order: dict[str, list[int]] = defaultdict(list)
    for body, _ in receiver.received:
        text = json.loads(body)["entry"][0]["messaging"][0]["message"]["text"]
        psid, number = text.split(":")
        order[psid].append(int(number))
    assert order == {f"f{s}": list(range(PER_SENDER)) for s in range(SENDERS)}
