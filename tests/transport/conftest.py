"""Fixtures for the transport tests: a fake clock and a client on requests-mock."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest
import requests_mock

from fmc.models import Page
from fmc.transport import Client, RetryPolicy, install_log_redaction, remove_log_redaction

TOKEN = "EAAGpagetoken0123456789"
SECRET = "appsecret-abcdef"
GRAPH = "https://graph.facebook.com/v26.0"  # the default api_version
MESSAGES = f"{GRAPH}/1234/messages"
BATCH = f"{GRAPH}/"


class FakeMonotonic:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def log_redaction() -> Iterator[None]:
    """urllib3's request lines masked for the test, as an application opts in."""
    added = install_log_redaction()
    yield
    if added:
        remove_log_redaction()


@pytest.fixture
def page() -> Page:
    return Page("1234", TOKEN, app_secret=SECRET)


@pytest.fixture
def messages_url() -> str:
    return MESSAGES


@pytest.fixture
def batch_url() -> str:
    return BATCH


@pytest.fixture
def graph() -> Iterator[requests_mock.Mocker]:
    with requests_mock.Mocker() as mocker:
        yield mocker


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy(attempts=4, timeout=60.0, wait_initial=1.0, wait_max=8.0, wait_jitter=0.0)


@pytest.fixture
def client(page: Page, monotonic: FakeMonotonic, policy: RetryPolicy) -> Iterator[Client]:
    with Client(
        page, retry=policy, monotonic=monotonic, sleep=monotonic.sleep, concurrency=4
    ) as made:
        yield made


class LoopbackServer:
    """A raw TCP server on 127.0.0.1 that treats each connection the same scripted way.

    Behaviours: ``"reply"`` answers ``reply`` bytes, ``"drop"`` reads the request
    and closes without a word, ``"hang"`` reads the request and waits until the
    server stops.
    """

    def __init__(self, behaviour: str, reply: bytes = b"") -> None:
        self.behaviour = behaviour
        self.reply = reply
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _read_request(self, conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                self.requests.append(self._read_request(conn))
                if self.behaviour == "reply":
                    conn.sendall(self.reply)
                elif self.behaviour == "hang":
                    self._stop.wait(5)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


def _http_reply(status: int, body: bytes, content_type: str = "application/json") -> bytes:
    """A complete HTTP/1.1 response that closes the connection."""
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


@pytest.fixture
def http_reply() -> Callable[..., bytes]:
    """Builds raw HTTP responses for the loopback server."""
    return _http_reply


@pytest.fixture
def loopback() -> Iterator[Callable[..., LoopbackServer]]:
    servers: list[LoopbackServer] = []

    def make(behaviour: str, reply: bytes = b"") -> LoopbackServer:
        """Start a server with the given behaviour."""
        server = LoopbackServer(behaviour, reply)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening (connections are refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port
