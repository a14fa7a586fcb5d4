"""Tests for the loopback server form of the fake and its command line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from fmc.testing import FakeGraphAPI, FakeGraphServer, Fault
from fmc.testing.server import main

JSON = {"Content-Type": "application/json"}
SEND = json.dumps(
    {"recipient": {"id": "1"}, "messaging_type": "UPDATE", "message": {"text": "hi"}}
).encode()


def raw_request(body: bytes = SEND, *, extra: str = "", path: str = "/v25.0/me/messages") -> bytes:
    head = (
        f"POST {path}?access_token=t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


class Responses:
    """Reads HTTP responses one by one from a socket, keeping what follows each."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def next(self) -> tuple[bytes, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return self.buffer, b""
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return head, body


def read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    return Responses(sock).next()


@pytest.fixture
def server() -> Iterator[FakeGraphServer]:
    with FakeGraphServer(FakeGraphAPI()) as running:
        yield running


def connect(server: FakeGraphServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=5)


class TestServer:
    """The in-process loopback server."""

    def test_url_is_loopback_with_ephemeral_port(self, server: FakeGraphServer) -> None:
        """The server listens on 127.0.0.1 on a port the system chose."""
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.port > 0

    def test_keep_alive(self, server: FakeGraphServer) -> None:
        """Several requests are answered on one connection."""
        with connect(server) as sock:
            for _ in range(3):
                sock.sendall(raw_request())
                head, body = read_response(sock)
                assert head.startswith(b"HTTP/1.1 200 OK")
                assert json.loads(body)["recipient_id"] == "1"
        assert len(server.fake.deliveries) == 3

    def test_pipelined_requests(self, server: FakeGraphServer) -> None:
        """Two requests written at once get two answers, in order."""
        with connect(server) as sock:
            sock.sendall(raw_request() + raw_request(path="/v25.0/me/messages"))
            responses = Responses(sock)
            first = responses.next()
            second = responses.next()
        assert [json.loads(first[1])["message_id"], json.loads(second[1])["message_id"]] == [
            d.message_id for d in server.fake.deliveries
        ]

    def test_connection_close(self, server: FakeGraphServer) -> None:
        """Connection: close is answered, then the connection is closed."""
        with connect(server) as sock:
            sock.sendall(raw_request(extra="Connection: close\r\n"))
            head, _ = read_response(sock)
            assert b"Connection: close" in head
            assert sock.recv(10) == b""

    def test_http_1_0_closes(self, server: FakeGraphServer) -> None:
        """An HTTP/1.0 request without keep-alive gets its answer and a close."""
        with connect(server) as sock:
            sock.sendall(raw_request().replace(b"HTTP/1.1", b"HTTP/1.0", 1))
            head, _ = read_response(sock)
            assert head.startswith(b"HTTP/1.1 200")
            assert sock.recv(10) == b""

    def test_chunked_body(self, server: FakeGraphServer) -> None:
        """A chunked request body is read whole."""
        chunks = [SEND[:10], SEND[10:]]
        body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
        head = (
            b"POST /v25.0/me/messages?access_token=t HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        with connect(server) as sock:
            sock.sendall(head + body)
            status, _ = read_response(sock)
        assert status.startswith(b"HTTP/1.1 200")

    def test_generator_body_from_requests(self, server: FakeGraphServer) -> None:
        """requests' chunked uploads (generator bodies) are served."""
        response = requests.post(
            f"{server.url}/v25.0/me/messages?access_token=t",
            data=iter([SEND[:5], SEND[5:]]),
            headers={"Content-Type": "application/json"},
            timeout=5,
        )
        assert response.status_code == 200

    @pytest.mark.parametrize(
        "request_bytes",
        [
            b"NONSENSE\r\n\r\n",
            b"POST / HTTP/1.1\r\nbroken header\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        ],
        ids=["request-line", "header-line", "content-length"],
    )
    def test_malformed_request_gets_400(
        self, server: FakeGraphServer, request_bytes: bytes
    ) -> None:
        """A request that is not HTTP gets 400 and a close."""
        with connect(server) as sock:
            sock.sendall(request_bytes)
            head, _ = read_response(sock)
        assert head.startswith(b"HTTP/1.1 400")

    def test_a_failing_fake_answers_500(
        self, server: FakeGraphServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A bug in the fake is answered 500 with its description, not a hang."""

        def broken(*args: object) -> None:
            raise RuntimeError("kaboom")

        monkeypatch.setattr(server.fake, "handle", broken)
        response = requests.get(f"{server.url}/v25.0/me", timeout=5)
        assert response.status_code == 500
        assert "kaboom" in response.text

    def test_concurrent_connections(self, server: FakeGraphServer) -> None:
        """Many connections are served at once, with latency slept concurrently."""
        server.fake.latency = 0.2
        errors: list[BaseException] = []

        def one() -> None:
            try:
                with requests.Session() as session:
                    session.post(
                        f"{server.url}/v25.0/me/messages?access_token=t",
                        data=SEND,
                        headers=JSON,
                        timeout=5,
                    )
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=one) for _ in range(32)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert time.monotonic() - started < 2.0
        assert len(server.fake.deliveries) == 32

    def test_start_twice_refused(self, server: FakeGraphServer) -> None:
        """A running server cannot be started again."""
        with pytest.raises(RuntimeError):
            server.start()

    def test_stop_leaves_no_thread(self) -> None:
        """stop() joins every thread, even with idle and sleeping connections open."""
        before = set(threading.enumerate())
        fake = FakeGraphAPI(faults=[Fault.latency(30, times=1)])
        server = FakeGraphServer(fake).start()
        idle = connect(server)
        sleeper = connect(server)
        sleeper.sendall(raw_request())
        deadline = time.monotonic() + 5
        while not fake.http_requests and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 3
        assert set(threading.enumerate()) == before
        idle.close()
        sleeper.close()

    def test_stop_is_idempotent(self) -> None:
        """Stopping a stopped server does nothing."""
        server = FakeGraphServer(FakeGraphAPI()).start()
        server.stop()
        server.stop()

    def test_serve_context_manager(self) -> None:
        """fake.serve() yields a URL that answers, and stops afterwards."""
        fake = FakeGraphAPI()
        with fake.serve() as url:
            assert requests.get(f"{url}/v25.0/me?access_token=t", timeout=5).status_code == 200
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/v25.0/me?access_token=t", timeout=5)


class TestControlEndpoints:
    """The /_fake/ endpoints that expose the fake's state over HTTP."""

    def test_deliveries(self, server: FakeGraphServer) -> None:
        """GET /_fake/deliveries answers deliveries, request count and faults injected."""
        server.fake.faults.add(Fault.rate_limit(times=1))
        for _ in range(3):
            requests.post(
                f"{server.url}/v25.0/me/messages?access_token=t", data=SEND, headers=JSON, timeout=5
            )
        state = requests.get(f"{server.url}/_fake/deliveries", timeout=5).json()
        assert state["delivery_count"] == 2
        assert state["http_requests"] == 3
        assert state["faults_injected"] == {"rate_limit": 1}
        assert [d["recipient"] for d in state["deliveries"]] == [{"id": "1"}, {"id": "1"}]
        since = requests.get(f"{server.url}/_fake/deliveries?since=1", timeout=5).json()
        assert [d["number"] for d in since["deliveries"]] == [2]

    def test_control_calls_are_not_counted(self, server: FakeGraphServer) -> None:
        """Control endpoint calls are not Graph requests."""
        requests.get(f"{server.url}/_fake/deliveries", timeout=5)
        assert server.fake.http_request_count == 0

    def test_requests(self, server: FakeGraphServer) -> None:
        """GET /_fake/requests lists method, path and server time of each request."""
        requests.get(f"{server.url}/v25.0/me?access_token=secret", timeout=5)
        [[method, path, at]] = requests.get(f"{server.url}/_fake/requests", timeout=5).json()
        assert (method, path) == ("GET", "/v25.0/me")
        assert isinstance(at, float)

    def test_faults_and_reset(self, server: FakeGraphServer) -> None:
        """POST /_fake/faults configures faults; POST /_fake/reset clears everything."""
        answer = requests.post(
            f"{server.url}/_fake/faults",
            json={"faults": ["unavailable:psids=1", {"kind": "latency", "delay": 0}]},
            timeout=5,
        )
        assert answer.status_code == 200
        listed = requests.get(f"{server.url}/_fake/faults", timeout=5).json()
        assert [f["kind"] for f in listed["faults"]] == ["unavailable", "latency"]
        response = requests.post(
            f"{server.url}/v25.0/me/messages?access_token=t", data=SEND, headers=JSON, timeout=5
        )
        assert response.json()["error"]["code"] == 551
        requests.post(
            f"{server.url}/_fake/faults",
            json={"faults": ["transient"], "replace": False},
            timeout=5,
        )
        assert len(server.fake.faults.active) == 3
        requests.post(f"{server.url}/_fake/reset", timeout=5)
        assert not list(server.fake.faults.active)
        assert server.fake.http_request_count == 0

    def test_bad_fault_is_400(self, server: FakeGraphServer) -> None:
        """An unknown fault kind is refused with its reason."""
        answer = requests.post(
            f"{server.url}/_fake/faults", json={"faults": ["explode"]}, timeout=5
        )
        assert answer.status_code == 400
        assert "fault kind" in answer.json()["error"]

    def test_users(self, server: FakeGraphServer) -> None:
        """POST /_fake/users makes PSIDs known to the profile endpoint."""
        requests.post(f"{server.url}/_fake/users", json={"5": {"first_name": "Cy"}}, timeout=5)
        profile = requests.get(f"{server.url}/v25.0/5?fields=first_name&access_token=t", timeout=5)
        assert profile.json() == {"first_name": "Cy", "id": "5"}

    def test_unknown_control_endpoint(self, server: FakeGraphServer) -> None:
        """An unknown control endpoint is 404."""
        assert requests.get(f"{server.url}/_fake/nothing", timeout=5).status_code == 404


class TestSubprocess:
    """python -m fmc.testing.server in a subprocess."""

    def test_cli_exits_on_sigterm(self) -> None:
        """The command prints its URL first and exits 0 on SIGTERM."""
        command = [
            sys.executable,
            "-m",
            "fmc.testing.server",
            "--port",
            "0",
            "--fault",
            "transient:times=1",
        ]
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=dict(os.environ)
        )
        try:
            assert process.stdout is not None
            url = process.stdout.readline().decode().strip()
            assert url.startswith("http://127.0.0.1:")
            response = requests.post(
                f"{url}/v25.0/me/messages?access_token=t", data=SEND, headers=JSON, timeout=5
            )
            assert response.status_code == 500
            process.send_signal(signal.SIGTERM)
            assert process.wait(10) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()

    def test_cli_refuses_a_bad_fault(self) -> None:
        """An unknown fault on the command line is a usage error."""
        result = subprocess.run(
            [sys.executable, "-m", "fmc.testing.server", "--fault", "explode"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
        assert result.returncode == 2
        assert b"fault kind" in result.stderr


class TestMain:
    """The command's main function, run in-process."""

    def test_serves_until_stdin_closes(self, capsys: pytest.CaptureFixture[str]) -> None:
        """main() prints its URL, serves, and returns 0 when stdin closes."""
        read_end, write_end = os.pipe()
        result: list[int] = []
        with os.fdopen(read_end, "rb") as stdin:
            thread = threading.Thread(
                target=lambda: result.append(main(["--latency", "0", "--seed", "2"], stdin=stdin))
            )
            thread.start()
            deadline = time.monotonic() + 10
            url = ""
            while not url and time.monotonic() < deadline:
                url = capsys.readouterr().out.strip()
                time.sleep(0.01)
            response = requests.post(
                f"{url}/v25.0/me/messages?access_token=t", data=SEND, headers=JSON, timeout=5
            )
            assert response.status_code == 200
            os.close(write_end)
            thread.join(10)
        assert result == [0]
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=5)

    def test_module_entry_point(self) -> None:
        """python -m fmc.testing runs the same command."""
        result = subprocess.run(
            [sys.executable, "-m", "fmc.testing", "--help"],
            capture_output=True,
            timeout=30,
            check=True,
        )
        assert b"--latency" in result.stdout
