"""The fake Graph API on the wire: a loopback HTTP server, in-process or as a subprocess.

:class:`FakeGraphServer` serves a :class:`~fmc.testing.fake_graph.FakeGraphAPI`
on 127.0.0.1 with an ephemeral port: one thread per connection, HTTP/1.1
keep-alive, ``TCP_NODELAY`` and a large listen backlog. It reads requests
straight from the socket rather than through :mod:`http.server`, whose header
parsing would cost more than the fake itself. Latency is slept in the
connection's thread, so concurrent requests wait concurrently. A dropped
connection is a TCP reset, which a client cannot tell apart from a network
failure — after a ``drop_after`` fault, the send *was* delivered.

:class:`~fmc.testing.process.FakeGraphProcess` runs the same server in a
subprocess, so a benchmark's client does not share its GIL with the fake::

    python -m fmc.testing.server --port 0 --latency 0.05 --fault rate_limit:ratio=0.1

prints its URL on the first line of stdout and serves until stdin closes or it
gets SIGTERM. Its state is read and changed over HTTP: ``GET /_fake/deliveries``
(``?since=N``), ``GET /_fake/requests``, ``GET``/``POST /_fake/faults``,
``POST /_fake/reset`` and ``POST /_fake/users``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import selectors
import signal
import socket
import struct
import sys
import threading
from collections.abc import Sequence
from http import HTTPStatus
from types import FrameType, TracebackType
from typing import IO, Any

from fmc.testing.fake_graph import DEFAULT_PAGE_ID, FakeGraphAPI
from fmc.testing.faults import Fault
from fmc.testing.process import FakeGraphProcess
from fmc.testing.records import Reply

# FakeGraphProcess is also importable from here, where it was first published.
__all__ = ["FakeGraphProcess", "FakeGraphServer", "main"]

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
_REASONS = {status.value: status.phrase for status in HTTPStatus}
_LINGER_RESET = struct.pack("ii", 1, 0)


class _BadRequestError(Exception):
    pass


class FakeGraphServer:
    """A real HTTP server on loopback in front of a :class:`FakeGraphAPI`.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    :meth:`stop` closes every connection and joins every thread it started.

    Attributes:
        fake: The fake it serves.
        host: The address it listens on.
    """

    def __init__(
        self,
        fake: FakeGraphAPI,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        backlog: int = 1024,
    ) -> None:
        """Create a server (not yet listening).

        Args:
            fake: The fake Graph API to serve.
            host: The address to listen on.
            port: The port; 0 picks an ephemeral one.
            backlog: The listen backlog.
        """
        self.fake = fake
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

    def __repr__(self) -> str:
        state = "listening" if self._acceptor is not None else "stopped"
        return f"FakeGraphServer(host={self.host!r}, port={self._port}, {state})"

    @property
    def port(self) -> int:
        """The port it listens on (known once started)."""
        return self._port

    @property
    def url(self) -> str:
        """The base URL to give a client, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    def start(self) -> FakeGraphServer:
        """Listen and start accepting connections in a background thread.

        Returns:
            The server itself.

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
        return self

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

    def __enter__(self) -> FakeGraphServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

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
                reply = self.fake.handle(method, target, headers, body)
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


# -- the command line --------------------------------------------------------------------


def _fault_arg(text: str) -> Fault:
    text = text.strip()
    try:
        if text.startswith("{"):
            return Fault.from_dict(json.loads(text))
        return Fault.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fmc.testing.server",
        description="Serve fmc's fake Graph API on loopback. Prints its URL on the first line "
        "of stdout and serves until stdin closes or SIGTERM. The access token and app secret "
        "may also come from FMC_FAKE_ACCESS_TOKEN and FMC_FAKE_APP_SECRET.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks an ephemeral port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--page-id", default=DEFAULT_PAGE_ID)
    parser.add_argument("--api-version", default=None)
    parser.add_argument("--backlog", type=int, default=1024)
    parser.add_argument(
        "--ignore-stdin", action="store_true", help="serve until SIGTERM, whatever stdin does"
    )
    parser.add_argument(
        "--fault",
        action="append",
        type=_fault_arg,
        default=[],
        help="KIND[:key=value,...] or a JSON object; repeatable",
    )
    return parser


def _serve_until_done(done: threading.Event, stdin: IO[bytes] | None) -> None:
    """Wait for SIGTERM (``done``) or the end of stdin, reading stdin's raw descriptor.

    Reading the raw descriptor from this thread, rather than the buffered stream
    from a daemon thread, leaves no thread holding stdin's lock at exit.
    """
    if stdin is None:
        while not done.wait(0.5):
            pass
        return
    descriptor = stdin.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while not done.is_set():
            if selector.select(0.5) and not os.read(descriptor, 65536):
                return


def main(argv: Sequence[str] | None = None, *, stdin: IO[bytes] | None = None) -> int:
    """Run the fake Graph server until stdin closes or SIGTERM.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when ``None``).
        stdin: The stream whose end stops the server (``sys.stdin`` by default).

    Returns:
        The exit code.
    """
    args = _parser().parse_args(argv)
    fake = FakeGraphAPI(
        page_id=args.page_id,
        access_token=os.environ.get("FMC_FAKE_ACCESS_TOKEN"),
        app_secret=os.environ.get("FMC_FAKE_APP_SECRET"),
        api_version=args.api_version,
        latency=args.latency,
        seed=args.seed,
        faults=args.fault,
    )
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_signal) if in_main_thread else None
    server = FakeGraphServer(fake, host=args.host, port=args.port, backlog=args.backlog).start()
    try:
        sys.stdout.write(server.url + "\n")
        sys.stdout.flush()
        _serve_until_done(done, None if args.ignore_stdin else (stdin or sys.stdin.buffer))
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
