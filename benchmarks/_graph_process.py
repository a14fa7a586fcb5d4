"""The fake Graph server in a subprocess, so a benchmark's client does not share its GIL.

:class:`FakeGraphProcess` runs ``python -m fmc.testing.server``, waits for the
URL it prints, and reads and changes the fake's state over the server's
``/_fake/`` control endpoints. It is the benchmarks' harness, not part of
:mod:`fmc.testing`: an app's tests want the fake in process
(``FakeGraphAPI.mock``, ``serve`` or ``FakeTransport``).
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import IO, Any

from fmc.testing import DEFAULT_PAGE_ID, Fault

__all__ = ["FakeGraphProcess"]


class FakeGraphProcess:
    """The fake Graph server in a subprocess (``python -m fmc.testing.server``).

    Its state lives in the subprocess; read and change it with :meth:`state`,
    :meth:`deliveries`, :meth:`reset`, :meth:`set_faults` and :meth:`add_users`.

    Attributes:
        url: The base URL (once started).
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        faults: Iterable[Fault | str] = (),
        seed: int = 0,
        page_id: str = DEFAULT_PAGE_ID,
        access_token: str | None = None,
        app_secret: str | None = None,
        api_version: str | None = None,
        python: str | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        """Describe the subprocess to run.

        Args:
            latency: Seconds added to every answer.
            faults: Faults to inject from the start.
            seed: Seeds the fault draws.
            page_id: The Page's id.
            access_token: The only token accepted (passed through the environment).
            app_secret: Require ``appsecret_proof`` (passed through the environment).
            api_version: The only API version accepted.
            python: The interpreter (this one by default).
            startup_timeout: Seconds to wait for the URL line.
        """
        self.url = ""
        self._args = [python or sys.executable, "-m", "fmc.testing.server", "--port", "0"]
        self._args += ["--latency", repr(latency), "--seed", str(seed), "--page-id", page_id]
        if api_version is not None:
            self._args += ["--api-version", api_version]
        for fault in faults:
            spec = json.dumps(fault.to_dict()) if isinstance(fault, Fault) else fault
            self._args += ["--fault", spec]
        self._env = dict(os.environ)
        for name, value in (
            ("FMC_FAKE_ACCESS_TOKEN", access_token),
            ("FMC_FAKE_APP_SECRET", app_secret),
        ):
            if value is None:
                self._env.pop(name, None)
            else:
                self._env[name] = value
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __repr__(self) -> str:
        return f"FakeGraphProcess(url={self.url!r})"

    def start(self) -> FakeGraphProcess:
        """Start the subprocess and wait for its URL.

        Returns:
            The process wrapper itself.

        Raises:
            RuntimeError: it did not print its URL in time.
        """
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self._args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self._env
        )
        self._process = process
        assert process.stdout is not None
        line = _read_line(process.stdout, self._startup_timeout)
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the fake Graph server did not start (it printed {line!r})")
        self.url = line
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        """Close its stdin, wait for it to exit, and kill it if it does not.

        Args:
            timeout: Seconds to wait before terminating it.

        Returns:
            Its exit code.
        """
        process, self._process = self._process, None
        if process is None:
            return None
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                return process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                return process.wait()

    def __enter__(self) -> FakeGraphProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _call(self, method: str, path: str, data: Any = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(
            self.url + path,
            data=body,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with self._opener.open(request, timeout=30) as response:
            return json.loads(response.read())

    def state(self, *, since: int = 0) -> dict[str, Any]:
        """The fake's state: deliveries, request count and faults injected.

        Args:
            since: Leave out the first ``since`` deliveries.

        Returns:
            The JSON of ``GET /_fake/deliveries``.
        """
        result: dict[str, Any] = self._call("GET", f"/_fake/deliveries?since={since}")
        return result

    def deliveries(self, *, since: int = 0) -> list[dict[str, Any]]:
        """The accepted sends, as JSON objects (``AcceptedSend.to_dict``).

        Args:
            since: Leave out the first ``since`` deliveries.

        Returns:
            The deliveries.
        """
        deliveries: list[dict[str, Any]] = self.state(since=since)["deliveries"]
        return deliveries

    def reset(self, *, faults: bool = True) -> None:
        """Forget all traffic (and, unless ``faults=False``, every fault).

        Args:
            faults: Also remove the faults.
        """
        self._call("POST", "/_fake/reset", {"faults": faults})

    def set_faults(self, faults: Sequence[Fault | str], *, replace: bool = True) -> None:
        """Change the faults the fake injects.

        Args:
            faults: The faults.
            replace: Replace the current faults (else add to them).
        """
        specs = [f.to_dict() if isinstance(f, Fault) else f for f in faults]
        self._call("POST", "/_fake/faults", {"faults": specs, "replace": replace})

    def add_users(self, users: Mapping[str, Mapping[str, Any]]) -> None:
        """Make PSIDs known to the user profile endpoint.

        Args:
            users: PSID → profile fields.
        """
        self._call("POST", "/_fake/users", {k: dict(v) for k, v in users.items()})


def _read_line(stream: IO[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    line = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                break
            byte = os.read(stream.fileno(), 1)
            if not byte:
                break
            line += byte
    return line.decode("utf-8", "replace").strip()
