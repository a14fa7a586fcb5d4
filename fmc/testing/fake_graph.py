"""An in-memory Graph API that answers like Meta and records every send it accepts.

:class:`FakeGraphAPI` models the endpoints fmc calls — the Send API (JSON and
form bodies), Graph batch requests, the user profile, attachment upload and
the Messenger profile — with Meta's validation and error envelopes, and
injects the faults of :mod:`fmc.testing.faults` on demand.

It is transport-free: :meth:`FakeGraphAPI.handle` takes a method, a target, the
headers and the raw body, and returns a :class:`Reply`. Two forms put it on the
wire: :meth:`FakeGraphAPI.mock` installs it on a ``requests_mock.Mocker``, and
:meth:`FakeGraphAPI.serve` runs it behind a real HTTP server on 127.0.0.1
(:class:`FakeGraphServer`).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from fmc.testing import _routing, _wire
from fmc.testing._endpoints import SUCCESS
from fmc.testing._loopback import LoopbackServer
from fmc.testing._wire import dumps
from fmc.testing.faults import Fault
from fmc.testing.injector import FaultInjector
from fmc.testing.platform_graph import PlatformGraph
from fmc.testing.records import AcceptedSend, Ledger, RecordedRequest, Reply
from fmc.testing.tenants_graph import TenantsGraph
from fmc.transport.clocks import monotonic_argument
from fmc.transport.core import DEFAULT_BASE_URL as GRAPH_BASE_URL

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_PAGE_ID",
    "AcceptedSend",
    "FakeGraphAPI",
    "FakeGraphServer",
    "RecordedRequest",
    "Reply",
]

#: What the fake intercepts by default: the clients' own default root URL.
DEFAULT_BASE_URL = GRAPH_BASE_URL
DEFAULT_PAGE_ID = "1234567890"
MAX_BATCH = _wire.MAX_BATCH


class FakeGraphAPI:
    """A thread-safe, in-memory stand-in for the Graph API endpoints fmc uses.

    Attributes:
        page_id: The Page's id (``/{page_id}/messages`` and ``/me/messages`` both work).
        page_name: The Page's name, answered by ``GET /me``.
        access_token: When set, calls with another token get error 190.
        app_secret: When set, calls need the matching ``appsecret_proof``.
        api_version: When set, calls to another ``vN.N`` are refused.
        latency: Seconds added to every HTTP answer.
        faults: The :class:`~fmc.testing.FaultInjector`; ``faults.injected``
            counts what fired.
        users: Known PSIDs and their profile fields (see :meth:`add_user`).
        messenger_profile: The Messenger profile fields set so far.
        attachments: Uploaded attachments by ``attachment_id``.
    """

    def __init__(
        self,
        *,
        page_id: str = DEFAULT_PAGE_ID,
        page_name: str = "Fake Page",
        access_token: str | None = None,
        app_secret: str | None = None,
        api_version: str | None = None,
        latency: float = 0.0,
        seed: int = 0,
        faults: Sequence[Fault | str | Mapping[str, Any]] = (),
        users: Mapping[str, Mapping[str, Any]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Create a fake Graph API.

        Args:
            page_id: The Page's id.
            page_name: The Page's name.
            access_token: The only token accepted (any non-empty token when ``None``).
            app_secret: Require ``appsecret_proof`` computed with this secret.
            api_version: The only ``vN.N`` accepted (any when ``None``).
            latency: Seconds added to every HTTP answer, once per request.
            seed: Seeds fault draws and the ids the fake makes up.
            faults: Faults to inject from the start.
            users: PSID → profile fields, for the user profile endpoint.
            monotonic: Monotonic seconds, for the times recorded.
            wall_clock: Wall clock (aware UTC) for :attr:`AcceptedSend.wall_time`.
            sleep: How the requests-mock form waits out latency.
            clock: The old name of ``monotonic`` (deprecated; in fmc, ``clock``
                means an aware UTC datetime callable).

        Raises:
            ConfigurationError: Both ``monotonic`` and ``clock`` were given.
        """
        self.page_id = page_id
        self.page_name = page_name
        self.access_token = access_token
        self.app_secret = app_secret
        self.api_version = api_version
        self.latency = latency
        self.seed = seed
        self.faults = FaultInjector(seed, faults)
        self.users: dict[str, dict[str, Any]] = {
            psid: dict(fields) for psid, fields in (users or {}).items()
        }
        self.messenger_profile: dict[str, Any] = {}
        self.attachments: dict[str, dict[str, Any]] = {}
        #: Templates, personas and thread control (:mod:`fmc.testing.platform_graph`).
        self.platform = PlatformGraph(page_id=page_id)
        #: Many apps, Pages and tokens (:mod:`fmc.testing.tenants_graph`).
        self.tenants = TenantsGraph()
        self._wall_clock = wall_clock or (lambda: datetime.now(timezone.utc))
        self._sleep = sleep
        self._lock = threading.Lock()
        self._ledger = Ledger(seed, monotonic_argument("FakeGraphAPI", monotonic, clock))

    def __repr__(self) -> str:
        return (
            f"FakeGraphAPI(page_id={self.page_id!r}, deliveries={self._ledger.send_count}, "
            f"http_requests={self._ledger.request_count})"
        )

    # -- what happened ------------------------------------------------------------------

    @property
    def deliveries(self) -> list[AcceptedSend]:
        """Every accepted send, in the order accepted (a copy)."""
        return self._ledger.sends

    @property
    def http_requests(self) -> list[RecordedRequest]:
        """Every HTTP request received, in order (a copy; control endpoints excluded)."""
        return self._ledger.requests

    @property
    def http_request_count(self) -> int:
        """How many HTTP requests the fake received."""
        return self._ledger.request_count

    def delivered_to(self, recipient: str) -> list[AcceptedSend]:
        """The accepted sends to one recipient, in order.

        Args:
            recipient: A PSID (or the token, user_ref or comment id the send used).

        Returns:
            The sends.
        """
        return self._ledger.sent_to(recipient)

    def delivery_counts(self) -> Counter[str]:
        """How many sends each recipient got, keyed by :attr:`AcceptedSend.recipient_key`."""
        return self._ledger.counts()

    def add_user(self, psid: str, **fields: Any) -> None:
        """Make a PSID known to the user profile endpoint.

        Args:
            psid: The PSID.
            **fields: Profile fields (``first_name``, ``last_name``, ``profile_pic``,
                ``locale``, ``timezone``, ``gender``, ``name``).
        """
        with self._lock:
            self.users[psid] = dict(fields)

    def reset(self, *, faults: bool = True) -> None:
        """Forget all traffic: sends, requests, uploads and the Messenger profile.

        Message ids stay unique across a reset, as Meta's are.

        Args:
            faults: Also remove every fault and zero ``faults.injected``.
        """
        self._ledger.clear()
        with self._lock:
            self.messenger_profile.clear()
            self.attachments.clear()
        if faults:
            self.faults.clear()

    def state(self, *, since: int = 0) -> dict[str, Any]:
        """The JSON served at ``GET /_fake/deliveries``.

        Args:
            since: Leave out the first ``since`` accepted sends.

        Returns:
            ``{"deliveries": [...], "delivery_count", "http_requests", "faults_injected"}``.
        """
        sends, total, requests = self._ledger.snapshot(since)
        return {
            "deliveries": [sent.to_dict() for sent in sends],
            "delivery_count": total,
            "http_requests": requests,
            "faults_injected": dict(self.faults.injected),
        }

    # -- transports ---------------------------------------------------------------------

    def mock(self, mocker: Any = None, *, base_url: str = DEFAULT_BASE_URL) -> Any:
        """Install the fake on a ``requests_mock.Mocker`` for every URL under ``base_url``.

        Dropped connections raise ``requests.exceptions.ConnectTimeout`` (before),
        ``ReadTimeout`` (after) or as the fault's ``exception`` says.

        Args:
            mocker: A ``requests_mock.Mocker`` (or the ``requests_mock`` pytest
                fixture); a new, not yet started one when ``None``.
            base_url: The Graph API base URL the client uses.

        Returns:
            The mocker.
        """
        import requests_mock

        if mocker is None:
            mocker = requests_mock.Mocker()
        base = base_url.rstrip("/")
        pattern = re.compile("^" + re.escape(base) + r"(?:[/?]|\Z)")
        callback = _wire.mock_callback(self.handle, base, self._sleep)
        mocker.register_uri(requests_mock.ANY, pattern, content=callback)
        return mocker

    @contextlib.contextmanager
    def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve the fake over real HTTP on loopback for the duration of a ``with`` block.

        Args:
            host: The address to listen on.
            port: The port (0: an ephemeral port).

        Yields:
            The base URL, e.g. ``http://127.0.0.1:54321``.
        """
        with self.server(host=host, port=port) as server:
            yield server.url

    def server(self, *, host: str = "127.0.0.1", port: int = 0) -> FakeGraphServer:
        """A loopback HTTP server for this fake, not yet started.

        Args:
            host: The address to listen on.
            port: The port (0: an ephemeral port).

        Returns:
            The :class:`FakeGraphServer`.
        """
        return FakeGraphServer(self, host=host, port=port)

    # -- the one entry point ------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one HTTP request.

        Args:
            method: The HTTP method.
            target: The path and query string, e.g. ``/v25.0/me/messages?access_token=…``.
            headers: The request headers (any case).
            body: The raw body.

        Returns:
            The :class:`Reply` (which may ask the transport to wait or drop).
        """
        path, _, query = target.partition("?")
        method = method.upper()
        if path.startswith("/_fake/"):
            return self._control(method, path, query, body)
        return _routing.answer(self, method, path, query, headers, body)

    # -- control endpoints (the server form's remote control) ---------------------------

    def _control(self, method: str, path: str, query: str, body: bytes) -> Reply:
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            return Reply(400, dumps({"error": "body is not JSON"}))
        args = dict(parse_qsl(query))
        if path == "/_fake/deliveries" and method == "GET":
            return Reply(200, dumps(self.state(since=int(args.get("since", 0)))))
        if path == "/_fake/requests" and method == "GET":
            return Reply(200, dumps([[r.method, r.path, r.time] for r in self.http_requests]))
        if path == "/_fake/reset" and method == "POST":
            self.reset(faults=bool(data.get("faults", True)) if isinstance(data, dict) else True)
            return Reply(200, SUCCESS)
        if path == "/_fake/faults" and method == "GET":
            active = [f.to_dict() for f in self.faults.active]
            return Reply(200, dumps({"faults": active, "injected": dict(self.faults.injected)}))
        if path == "/_fake/faults" and method == "POST":
            specs = data.get("faults", []) if isinstance(data, dict) else data
            try:
                if isinstance(data, dict) and data.get("replace", True) is False:
                    self.faults.add(*specs)
                else:
                    self.faults.replace(specs)
            except (ValueError, TypeError) as exc:
                return Reply(400, dumps({"error": str(exc)}))
            return Reply(200, SUCCESS)
        if path == "/_fake/users" and method == "POST" and isinstance(data, dict):
            for psid, fields in data.items():
                self.add_user(str(psid), **dict(fields))
            return Reply(200, SUCCESS)
        return Reply(404, dumps({"error": f"no control endpoint {method} {path}"}))


class FakeGraphServer:
    """A real HTTP server on loopback in front of a :class:`FakeGraphAPI`.

    One thread per connection, HTTP/1.1 keep-alive; latency is slept in the
    connection's thread, so concurrent requests wait concurrently. A dropped
    connection is a TCP reset, which a client cannot tell apart from a network
    failure: after a ``drop_after`` fault, the send *was* delivered.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    :meth:`stop` closes every connection and joins every thread it started.

    Attributes:
        fake: The fake it serves.
        host: The address it listens on.
    """

    def __init__(
        self, fake: FakeGraphAPI, *, host: str = "127.0.0.1", port: int = 0, backlog: int = 1024
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
        self._loop = LoopbackServer(self._handle, host=host, port=port, backlog=backlog)

    def __repr__(self) -> str:
        state = "listening" if self._loop.listening else "stopped"
        return f"FakeGraphServer(host={self.host!r}, port={self.port}, {state})"

    @property
    def port(self) -> int:
        """The port it listens on (known once started)."""
        return self._loop.port

    @property
    def url(self) -> str:
        """The base URL to give a client, e.g. ``http://127.0.0.1:54321``."""
        return self._loop.url

    def start(self) -> FakeGraphServer:
        """Listen and start accepting connections in a background thread.

        Returns:
            The server itself.

        Raises:
            RuntimeError: it is already running.
        """
        self._loop.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every connection and join every thread.

        Args:
            timeout: Seconds to wait for each thread.
        """
        self._loop.stop(timeout)

    def __enter__(self) -> FakeGraphServer:
        return self.start()

    def _handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        return self.fake.handle(method, target, headers, body)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
