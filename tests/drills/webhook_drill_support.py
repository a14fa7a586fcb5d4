"""Pieces of the webhook durability drills: server processes, a TCP proxy, a receiver, posts."""

from __future__ import annotations

import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import drill_support as ds

import fmc
from fmc.testing import message_event, signed_delivery

WORKER = Path(__file__).with_name("webhook_worker.py")


def message(
    psid: str, text: str = "hello", *, at: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    """A signed one-message delivery from ``psid``."""
    when = at if at is not None else ds.NOW - timedelta(minutes=5)
    event = message_event(psid, text, timestamp=when, mid=f"m_{psid}_{uuid.uuid4().hex[:8]}")
    return signed_delivery(event, ds.APP_SECRET)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 30) -> int | None:
    """POST to the webhook; the status, or ``None`` when the server is gone."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, urllib.error.URLError):
        return None


def wait_for(condition: Any, seconds: float = 30, what: str = "a condition") -> None:
    """Poll until ``condition()`` is true."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class Server:
    """A webhook server process (``webhook_worker.py`` or ``fmc serve``) and its URL."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    def kill(self) -> None:
        """SIGKILL, and wait for it."""
        self.process.kill()
        self.process.wait(30)

    def terminate(self) -> tuple[int, str]:
        """SIGTERM; the exit code and what it printed."""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=60)
        return self.process.returncode, out


@contextmanager
def worker(tmp_path: Path, store: dict[str, str], *extra: str) -> Iterator[Server]:
    """Run ``webhook_worker.py`` on ``store`` (``{"db": path}`` or ``{"dsn", "schema"}``)."""
    url_file = tmp_path / f"url-{uuid.uuid4().hex[:8]}"
    options = [f"--{name}={value}" for name, value in store.items()]
    process = subprocess.Popen(
        [sys.executable, str(WORKER), str(url_file), *options, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: url_file.exists() or process.poll() is not None, what="the worker")
        assert process.poll() is None, process.communicate()[0]
        yield Server(process, url_file.read_text())
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def free_port() -> int:
    """A free loopback port (for ``fmc serve --port``)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def fmc_serve(db: Path, *extra: str, forward_allow: str = "") -> Iterator[Server]:
    """Run the real ``fmc serve`` on a SQLite file."""
    port = free_port()
    environ = {
        **os.environ,
        "FMC_PAGE_ID": ds.PAGE_ID,
        "FMC_PAGE_TOKEN": ds.PAGE_TOKEN,
        "FMC_APP_SECRET": ds.APP_SECRET,
        "FMC_VERIFY_TOKEN": ds.VERIFY_TOKEN,
        "FMC_DB": str(db),
        "FMC_FORWARD_ALLOW": forward_allow,
    }
    command = [sys.executable, "-m", "fmc.cli", "serve", "--port", str(port), *extra]
    process = subprocess.Popen(
        command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}/"

    def listening() -> bool:
        if process.poll() is not None:
            return True
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_for(listening, what="fmc serve")
        assert process.poll() is None, process.communicate()[0]
        yield Server(process, url)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


class Receiver:
    """A loopback forwarding receiver that records bodies, each answered after ``delay``."""

    def __init__(self, delay: float = 0.0) -> None:
        self.bodies: list[bytes] = []
        lock = self._lock = threading.Lock()
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(delay)
                with lock:
                    bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def received(self) -> set[bytes]:
        """The bodies received so far."""
        with self._lock:
            return set(self.bodies)

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


def outbox_bodies(store: Any) -> set[bytes]:
    """The bodies waiting in a store's outbox (each drill delivery has its own order key)."""
    far = ds.NOW + timedelta(days=36500)
    return {item.body for item in store.outbox_due(far, 1_000_000)}


def open_store(spec: dict[str, str]) -> Any:
    """Open the store a worker used."""
    if "db" in spec:
        return fmc.SQLiteStore(spec["db"])
    return fmc.PostgresStore(spec["dsn"], schema=spec["schema"])


class Proxy:
    """A TCP proxy to a database that can go down (refuse) or silent (hold everything).

    ``down()`` closes the listener and resets every connection, as a stopped
    server does; ``silent()`` keeps accepting but forwards nothing, as an
    unreachable host behind a dropping firewall does; ``up()`` restores it.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self.up()

    def up(self) -> None:
        """Accept and forward."""
        self._flowing.set()
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def silent(self) -> None:
        """Accept, but forward nothing either way."""
        self._flowing.clear()

    def down(self) -> None:
        """Refuse new connections and reset the open ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        linger_zero = struct.pack("ii", 1, 0)  # close with a reset, as a dead server's host does
        for sock in sockets:
            with suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_zero)
                sock.shutdown(socket.SHUT_RDWR)
        self._flowing.set()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # went down meanwhile
                    client.close()
                    server.close()
                    continue
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                readable, _, _ = select.select([source], [], [], 0.1)
                if not readable:
                    continue
                self._flowing.wait()
                data = source.recv(65536)
                if not data:
                    break
                self._flowing.wait()
                sink.sendall(data)
        except (OSError, ValueError):
            pass  # reset by down(): the socket is closed under us
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def dsn(self, dsn: str) -> str:
        """``dsn`` pointed at the proxy."""
        host_port = f"{self.target[0]}:{self.target[1]}"
        assert host_port in dsn, "the test DSN must name host:port"
        return dsn.replace(host_port, f"127.0.0.1:{self.port}")


def _postgres_bin() -> Path | None:
    """The directory of PostgreSQL's server programs, if installed."""
    import glob
    import shutil

    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return Path(versions[-1]) if versions else None


class PrivatePostgres:
    """A throwaway PostgreSQL server of this drill's own, which it may really stop and start.

    Runs as the ``postgres`` user when this process is root (the server refuses
    root), on a free loopback port, with its data in a new directory under the
    system's temporary directory (removed by :meth:`close`).
    """

    def __init__(self) -> None:
        import tempfile

        bin_dir = _postgres_bin()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL's server programs are not installed")
        self._bin = bin_dir
        self._dir = Path(tempfile.mkdtemp(prefix="fmc-drill-pg-"))
        self.port = free_port()
        if os.geteuid() == 0:
            import shutil

            shutil.chown(self._dir, "postgres")
        data = str(self._dir / "data")
        self._run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    @property
    def dsn(self) -> str:
        """Its connection string."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self._bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def _ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self._dir / "data"), *args)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._dir} -c fsync=off"
        self._ctl("-w", "-l", str(self._dir / "log"), "-o", options, "start")

    def stop(self) -> None:
        """Stop it at once, as a crash or an operator would (``-m immediate``)."""
        self._ctl("-m", "immediate", "stop")

    def close(self) -> None:
        """Stop it if it runs and remove its files."""
        import shutil

        with suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
