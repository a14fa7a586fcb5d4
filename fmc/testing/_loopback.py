"""A loopback HTTP/1.1 server that hands each request to a handler: the fake's wire.

One thread per connection, HTTP/1.1 keep-alive, ``TCP_NODELAY`` and a large
listen backlog. Requests are read straight from the socket rather than through
:mod:`http.server`, whose header parsing would cost more than the fake itself.
Latency is slept in the connection's thread, so concurrent requests wait
concurrently. A dropped connection is a TCP reset, which a client cannot tell
apart from a network failure.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from fmc.testing.records import Reply

__all__ = ["Handler", "LoopbackServer"]

#: Answers one request: ``(method, target, headers, body) -> Reply``.
Handler = Callable[[str, str, Mapping[str, str], bytes], Reply]

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
_REASONS = {status.value: status.phrase for status in HTTPStatus}
_LINGER_RESET = struct.pack("ii", 1, 0)


class _BadRequestError(Exception):
    pass


class LoopbackServer:
    """Serves a :data:`Handler` over HTTP/1.1 until stopped; every thread it starts is joined.

    Attributes:
        host: The address it listens on.
    """

    def __init__(
        self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0, backlog: int = 1024
    ) -> None:
        """Create a server (not yet listening).

        Args:
            handler: Answers each request.
            host: The address to listen on.
            port: The port; 0 picks an ephemeral one.
            backlog: The listen backlog.
        """
        self._handler = handler
        self.host = host
        self._port = port
        self._backlog = backlog
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        # Every connection thread that may still run: a thread leaves _connections
        # just before it ends, so stop() joins these rather than _connections.
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._acceptor: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        """Whether it has been started and not stopped."""
        return self._acceptor is not None

    @property
    def port(self) -> int:
        """The port it listens on (known once started)."""
        return self._port

    @property
    def url(self) -> str:
        """The base URL to give a client, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    def start(self) -> None:
        """Listen and start accepting connections in a background thread.

        Raises:
            RuntimeError: it is already running.
        """
        if self._acceptor is not None:
            raise RuntimeError("the fake Graph server is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self._port))
            listener.listen(self._backlog)
        except OSError:
            listener.close()
            raise
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._wake = socket.socketpair()
        self._stopping.clear()
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"fmc-fake-graph-{self._port}", daemon=True
        )
        self._acceptor.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every connection and join every thread.

        Args:
            timeout: Seconds to wait for each thread.
        """
        acceptor, self._acceptor = self._acceptor, None
        if acceptor is None:
            return
        self._stopping.set()
        assert self._wake is not None
        assert self._listener is not None
        self._wake[1].send(b"x")
        acceptor.join(timeout)
        with self._lock:
            connections = list(self._connections)
            threads, self._threads = self._threads, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout)
        self._listener.close()
        for end in self._wake:
            end.close()

    # -- accepting ----------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        assert self._wake is not None
        listener, wake = self._listener, self._wake[0]
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is wake:
                        return
                    try:
                        connection, _ = listener.accept()
                    except OSError:
                        continue
                    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    thread = threading.Thread(
                        target=self._serve_connection,
                        args=(connection,),
                        name=f"fmc-fake-graph-{self._port}-conn",
                        daemon=True,
                    )
                    with self._lock:
                        self._connections.add(connection)
                        if len(self._threads) >= 256:
                            self._threads = [t for t in self._threads if t.is_alive()]
                        self._threads.append(thread)
                    thread.start()

    # -- one connection -----------------------------------------------------------------

    def _serve_connection(self, connection: socket.socket) -> None:
        try:
            self._converse(connection)
        except OSError:
            pass
        finally:
            with self._lock:
                self._connections.discard(connection)
            connection.close()

    def _converse(self, connection: socket.socket) -> None:
        recv = connection.recv
        buffer = b""
        while not self._stopping.is_set():
            end = buffer.find(b"\r\n\r\n")
            while end < 0:
                if len(buffer) > MAX_HEAD:
                    connection.sendall(_plain(431, "request head too large"))
                    return
                chunk = recv(65536)
                if not chunk:
                    return
                buffer += chunk
                end = buffer.find(b"\r\n\r\n")
            head, buffer = buffer[:end], buffer[end + 4 :]
            try:
                method, target, version, headers = _parse_head(head)
                if headers.get("expect", "").lower() == "100-continue":
                    connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    body, buffer = _read_chunked(recv, buffer)
                else:
                    length = int(headers.get("content-length") or 0)
                    if not 0 <= length <= MAX_BODY:
                        raise _BadRequestError("bad Content-Length")
                    while len(buffer) < length:
                        chunk = recv(max(65536, length - len(buffer)))
                        if not chunk:
                            return
                        buffer += chunk
                    body, buffer = buffer[:length], buffer[length:]
            except (_BadRequestError, ValueError) as exc:
                connection.sendall(_plain(400, str(exc)))
                return
            connection_header = headers.get("connection", "").lower()
            keep_alive = (
                connection_header != "close"
                if version == "HTTP/1.1"
                else connection_header == "keep-alive"
            )
            try:
                reply = self._handler(method, target, headers, body)
            except Exception as exc:  # a bug in the fake must show, not hang the client
                connection.sendall(_plain(500, f"fake Graph API failed: {exc!r}"))
                return
            if reply.drop == "before":
                _reset(connection)
                return
            if reply.delay and self._stopping.wait(reply.delay):
                return
            if reply.drop is not None:
                _reset(connection)
                return
            connection.sendall(_response(reply, keep_alive, with_body=method != "HEAD"))
            if not keep_alive:
                return


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = head.split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequestError("malformed request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise _BadRequestError("malformed header line")
        headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return parts[0], parts[1], parts[2], headers


def _read_chunked(recv: Any, buffer: bytes) -> tuple[bytes, bytes]:
    body = bytearray()
    while True:
        end = buffer.find(b"\r\n")
        while end < 0:
            chunk = recv(65536)
            if not chunk:
                raise _BadRequestError("connection closed inside a chunked body")
            buffer += chunk
            end = buffer.find(b"\r\n")
        size = int(buffer[:end].split(b";")[0], 16)
        buffer = buffer[end + 2 :]
        while len(buffer) < size + 2:
            chunk = recv(65536)
            if not chunk:
                raise _BadRequestError("connection closed inside a chunked body")
            buffer += chunk
        if size == 0:
            # Skip trailers up to the blank line that ends the body.
            while not buffer.startswith(b"\r\n") and b"\r\n\r\n" not in buffer:
                chunk = recv(65536)
                if not chunk:
                    raise _BadRequestError("connection closed inside a chunked body")
                buffer += chunk
            cut = 2 if buffer.startswith(b"\r\n") else buffer.find(b"\r\n\r\n") + 4
            return bytes(body), buffer[cut:]
        body += buffer[:size]
        if len(body) > MAX_BODY:
            raise _BadRequestError("body too large")
        buffer = buffer[size + 2 :]


def _response(reply: Reply, keep_alive: bool, *, with_body: bool = True) -> bytes:
    lines = [
        f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Unknown')}",
        f"Content-Length: {len(reply.body)}",
    ]
    lines.extend(f"{name}: {value}" for name, value in reply.headers)
    if not keep_alive:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + reply.body if with_body else head


def _plain(status: int, text: str) -> bytes:
    return _response(
        Reply(status, text.encode(), (("Content-Type", "text/plain; charset=utf-8"),)), False
    )


def _reset(connection: socket.socket) -> None:
    """Close with a TCP reset, as a crashed proxy or a network failure would."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    connection.close()
