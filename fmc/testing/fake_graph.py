"""An in-memory Graph API that answers like Meta and records every delivery.

:class:`FakeGraphAPI` models the endpoints fmc calls — the Send API (JSON and
form bodies), Graph batch requests, the user profile, attachment upload and
the Messenger profile — with Meta's validation and error envelopes, and
injects the faults of :mod:`fmc.testing.faults` on demand.

It is transport-free: :meth:`FakeGraphAPI.handle` takes a method, a target, the
headers and the raw body, and returns a :class:`Reply`. Two forms put it on the
wire: :meth:`FakeGraphAPI.mock` installs it on a ``requests_mock.Mocker``, and
:meth:`FakeGraphAPI.serve` runs it behind a real HTTP server on 127.0.0.1
(:class:`fmc.testing.server.FakeGraphServer`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import attrs

from fmc.testing import _rules, _wire
from fmc.testing._rules import Refusal
from fmc.testing._wire import HTML_HEADERS, Answer, dumps, refused
from fmc.testing.faults import Fault, FaultInjector, FaultKind, Per
from fmc.testing.platform_graph import PlatformGraph
from fmc.testing.records import JSON_HEADERS, Delivery, RecordedRequest, Reply
from fmc.testing.tenants_graph import TenantsGraph

if TYPE_CHECKING:
    from fmc.testing.server import FakeGraphServer

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_PAGE_ID",
    "Delivery",
    "FakeGraphAPI",
    "RecordedRequest",
    "Reply",
]

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_PAGE_ID = "1234567890"
MAX_BATCH = _wire.MAX_BATCH
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
PROFILE_FIELDS = frozenset(
    {"id", "name", "first_name", "last_name", "profile_pic", "locale", "timezone", "gender"}
)
DEFAULT_PROFILE_FIELDS = ("first_name", "last_name", "profile_pic")

_VERSION = re.compile(r"v\d+\.\d+\Z")
_SUCCESS = b'{"result":"success"}'
_USAGE_HEADERS = frozenset(
    {"x-app-usage", "x-page-usage", "x-business-use-case-usage", "x-ad-account-usage"}
)


@attrs.frozen
class _Prepared:
    psids: tuple[str, ...]
    run: Callable[[], Answer]


class FakeGraphAPI:
    """A thread-safe, in-memory stand-in for the Graph API endpoints fmc uses.

    Attributes:
        page_id: The Page's id (``/{page_id}/messages`` and ``/me/messages`` both work).
        page_name: The Page's name, answered by ``GET /me``.
        access_token: When set, calls with another token get error 190.
        app_secret: When set, calls need the matching ``appsecret_proof``.
        api_version: When set, calls to another ``vN.N`` are refused.
        latency: Seconds added to every HTTP answer.
        faults: The :class:`~fmc.testing.faults.FaultInjector`; ``faults.injected``
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
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
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
            clock: Monotonic clock for the times recorded.
            wall_clock: Wall clock (aware UTC) for :attr:`Delivery.wall_time`.
            sleep: How the requests-mock form waits out latency.
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
        self._clock = clock
        self._wall_clock = wall_clock or (lambda: datetime.now(timezone.utc))
        self._sleep = sleep
        self._lock = threading.Lock()
        self._seed_bytes = str(seed).encode()
        self._deliveries: list[Delivery] = []
        self._by_recipient: defaultdict[str, list[Delivery]] = defaultdict(list)
        self._requests: list[RecordedRequest] = []
        self._ids = 0

    def __repr__(self) -> str:
        return (
            f"FakeGraphAPI(page_id={self.page_id!r}, deliveries={len(self._deliveries)}, "
            f"http_requests={len(self._requests)})"
        )

    # -- what happened ------------------------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        """Every accepted send, in the order accepted (a copy)."""
        with self._lock:
            return list(self._deliveries)

    @property
    def http_requests(self) -> list[RecordedRequest]:
        """Every HTTP request received, in order (a copy; control endpoints excluded)."""
        with self._lock:
            return list(self._requests)

    @property
    def http_request_count(self) -> int:
        """How many HTTP requests the fake received."""
        return len(self._requests)

    def delivered_to(self, recipient: str) -> list[Delivery]:
        """The deliveries to one recipient, in order.

        Args:
            recipient: A PSID (or the token, user_ref or comment id the send used).

        Returns:
            The deliveries.
        """
        with self._lock:
            return list(self._by_recipient.get(recipient, ()))

    def delivery_counts(self) -> Counter[str]:
        """How many deliveries each recipient got, keyed by :attr:`Delivery.recipient_key`."""
        with self._lock:
            return Counter({key: len(items) for key, items in self._by_recipient.items()})

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
        """Forget all traffic: deliveries, requests, uploads and the Messenger profile.

        Message ids stay unique across a reset, as Meta's are.

        Args:
            faults: Also remove every fault and zero ``faults.injected``.
        """
        with self._lock:
            self._deliveries.clear()
            self._by_recipient.clear()
            self._requests.clear()
            self.messenger_profile.clear()
            self.attachments.clear()
        if faults:
            self.faults.clear()

    def state(self, *, since: int = 0) -> dict[str, Any]:
        """The JSON served at ``GET /_fake/deliveries``.

        Args:
            since: Leave out the first ``since`` deliveries.

        Returns:
            ``{"deliveries": [...], "delivery_count", "http_requests", "faults_injected"}``.
        """
        with self._lock:
            deliveries = [d.to_dict() for d in self._deliveries[since:]]
            total = len(self._deliveries)
            requests = len(self._requests)
        return {
            "deliveries": deliveries,
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
        mocker.register_uri(requests_mock.ANY, pattern, content=self._mock_callback(base))
        return mocker

    def _mock_callback(self, base: str) -> Callable[[Any, Any], bytes]:
        base_path = urlsplit(base).path

        def callback(request: Any, context: Any) -> bytes:
            split = urlsplit(request.url)
            path = split.path[len(base_path) :] if base_path else split.path
            target = (path or "/") + ("?" + split.query if split.query else "")
            body = request.body
            if body is None:
                body = b""
            elif isinstance(body, str):
                body = body.encode("utf-8")
            elif not isinstance(body, (bytes, bytearray)):
                body = b"".join(
                    chunk.encode("utf-8") if isinstance(chunk, str) else chunk for chunk in body
                )
            reply = self.handle(request.method, target, request.headers, bytes(body))
            if reply.drop is not None:
                if reply.drop == "after" and reply.delay:
                    self._sleep(reply.delay)
                raise _wire.drop_exception(reply)
            if reply.delay:
                self._sleep(reply.delay)
            context.status_code = reply.status
            for name, value in reply.headers:
                context.headers[name] = value
            return reply.body

        return callback

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
            The :class:`~fmc.testing.server.FakeGraphServer`.
        """
        from fmc.testing.server import FakeGraphServer

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
        with self._lock:
            number = len(self._requests) + 1
            self._requests.append(RecordedRequest(number, method, path, self._clock()))
        try:
            params = _wire.params(headers, body, query)
            prepared = self._prepare(method, path, params, number)
        except Refusal as refusal:
            answer = refused(refusal, self._trace_id())
            prepared = _Prepared((), lambda: answer)
        delay = self.latency + self.faults.delay(prepared.psids)
        fault = self.faults.pick(Per.REQUEST, prepared.psids)
        if fault is None:
            answer = prepared.run()
        elif fault.kind is FaultKind.DROP_BEFORE:
            return Reply(0, b"", (), 0.0, "before", fault.exception or "connect_timeout")
        elif fault.kind is FaultKind.DROP_AFTER:
            prepared.run()
            return Reply(0, b"", (), delay, "after", fault.exception or "read_timeout")
        else:
            answer = self._fault_answer(fault, prepared.run() if fault.delivers else None)
        return Reply(answer.status, answer.body, answer.headers, delay)

    # -- routing ------------------------------------------------------------------------

    def _prepare(
        self, method: str, path: str, params: dict[str, Any], number: int, index: int | None = None
    ) -> _Prepared:
        """Route one call; ``index`` is its position in a batch (``None`` outside one)."""
        parts = [part for part in path.split("/") if part]
        if parts and _VERSION.match(parts[0]):
            version = parts.pop(0)
            if self.api_version is not None and version != self.api_version:
                raise Refusal(
                    f"(#12) {version} is not available to this app; call {self.api_version}",
                    12,
                )
        elif parts and parts[0].startswith("v") and parts[0][1:2].isdigit():
            raise Refusal(f"Unknown path components: /{parts[0]}", 2500)
        if not parts:
            if method != "POST" or index is not None:
                raise _wire.unsupported(method, "")
            items = _wire.batch_items(params)
            psids = tuple(psid for item in items if (psid := _wire.item_psid(item)) is not None)
            return _Prepared(psids, lambda: self._batch(items, params, number))
        node = parts[0]
        edge = parts[1] if len(parts) > 1 else None
        if len(parts) > 2:
            raise Refusal("Unknown path components: /" + "/".join(parts[2:]), 2500)
        is_page = node in ("me", self.page_id) or self.tenants.is_page(node)
        tenants = self.tenants.route(method, node, edge, params)
        if tenants is not None:
            return _Prepared((), lambda: self._authed(params, tenants))
        platform = self.platform.route(method, node, edge, params)
        if platform is not None:
            return _Prepared((), lambda: self._authed(params, platform))
        if edge is None:
            if method != "GET":
                raise _wire.unsupported(method, node)
            if is_page:
                return _Prepared((), lambda: self._authed(params, self._get_page))
            return _Prepared(
                (node,), lambda: self._authed(params, lambda: self._profile(node, params))
            )
        if not is_page:
            raise _wire.unsupported(method, node)
        if edge == "messages" and method == "POST":
            psid = _wire.param_psid(params)
            return _Prepared(
                (psid,) if psid else (),
                lambda: self._authed(params, lambda: self._send(params, number, index)),
            )
        if edge == "message_attachments" and method == "POST":
            return _Prepared((), lambda: self._authed(params, lambda: self._upload(params)))
        if edge == "messenger_profile" and method in ("GET", "POST", "DELETE"):
            return _Prepared(
                (), lambda: self._authed(params, lambda: self._messenger_profile(method, params))
            )
        if edge in ("messages", "message_attachments", "messenger_profile"):
            raise _wire.unsupported(method, f"{node}/{edge}")
        raise Refusal(f"Unknown path components: /{edge}", 2500)

    def _authed(self, params: Mapping[str, Any], run: Callable[[], Answer]) -> Answer:
        try:
            self._check_auth(params)
            return run()
        except Refusal as refusal:
            return refused(refusal, self._trace_id())

    def _check_auth(self, params: Mapping[str, Any]) -> None:
        token = params.get("access_token")
        if not isinstance(token, str) or not token:
            raise Refusal("An access token is required to request this resource.", 104)
        self.tenants.check_token(token)
        if self.access_token is not None and not hmac.compare_digest(token, self.access_token):
            raise Refusal("Invalid OAuth access token - Cannot parse access token", 190)
        if self.app_secret is not None:
            proof = params.get("appsecret_proof")
            if not isinstance(proof, str) or not proof:
                raise Refusal(
                    "API calls from the server require an appsecret_proof argument",
                    type="GraphMethodException",
                )
            expected = hmac.new(
                self.app_secret.encode(), token.encode(), hashlib.sha256
            ).hexdigest()
            if not hmac.compare_digest(proof, expected):
                raise Refusal(
                    "Invalid appsecret_proof provided in the API argument",
                    type="GraphMethodException",
                )

    # -- Send API -----------------------------------------------------------------------

    def _send(self, params: Mapping[str, Any], number: int, index: int | None) -> Answer:
        body = _rules.check_send(params)
        self.platform.check_send(body.messaging_type, body.message, body.tag)
        psid = body.recipient.get("id")
        fault = self.faults.pick(Per.SEND, (psid,) if psid else ())
        if fault is not None and not fault.delivers:
            return self._fault_answer(fault, None)
        delivery = self._deliver(body, number, index)
        answer: dict[str, str] = {}
        if psid is not None:
            answer["recipient_id"] = psid
        if delivery.message_id is not None:
            answer["message_id"] = delivery.message_id
        success = Answer(200, dumps(answer))
        return success if fault is None else self._fault_answer(fault, success)

    def _deliver(self, body: _rules.SendBody, number: int, index: int | None) -> Delivery:
        wall = self._wall_clock()
        with self._lock:
            self._ids += 1
            message_id = (
                "m_" + self._made_up_id(b"m", self._ids, 54) if body.message is not None else None
            )
            delivery = Delivery(
                number=len(self._deliveries) + 1,
                recipient=body.recipient,
                message=body.message,
                sender_action=body.sender_action,
                messaging_type=body.messaging_type,
                tag=body.tag,
                notification_type=body.notification_type,
                persona_id=body.persona_id,
                message_id=message_id,
                time=self._clock(),
                wall_time=wall,
                request_number=number,
                batch_index=index,
            )
            self._deliveries.append(delivery)
            self._by_recipient[delivery.recipient_key].append(delivery)
        return delivery

    # -- batch --------------------------------------------------------------------------

    def _batch(
        self, items: list[_wire.BatchItem], params: Mapping[str, Any], number: int
    ) -> Answer:
        if "access_token" in params:
            # A top-level token is only the items' fallback, but a bad one is refused at once.
            try:
                self._check_auth(params)
            except Refusal as refusal:
                return refused(refusal, self._trace_id())
        include_headers = str(params.get("include_headers", "true")).lower() != "false"
        inherited = {
            key: params[key] for key in ("access_token", "appsecret_proof") if key in params
        }
        results: list[dict[str, Any]] = []
        # Like Meta, report throttling of the app or Page on the batch's own
        # answer too: usage headers describe the caller, not one call.
        usage: dict[str, tuple[str, str]] = {}
        for index, (method, path, item_params) in enumerate(items):
            merged = {**inherited, **item_params}
            try:
                answer = self._prepare(method, path, merged, number, index).run()
            except Refusal as refusal:
                answer = refused(refusal, self._trace_id())
            result: dict[str, Any] = {"code": answer.status}
            if include_headers:
                result["headers"] = [{"name": n, "value": v} for n, v in answer.headers]
            for name, value in answer.headers:
                if name.lower() in _USAGE_HEADERS:
                    usage[name.lower()] = (name, value)
            result["body"] = answer.body.decode("utf-8", "replace")
            results.append(result)
        return Answer(200, dumps(results), JSON_HEADERS + tuple(usage.values()))

    # -- other endpoints ----------------------------------------------------------------

    def _get_page(self) -> Answer:
        return Answer(200, dumps({"name": self.page_name, "id": self.page_id}))

    def _profile(self, psid: str, params: Mapping[str, Any]) -> Answer:
        raw = params.get("fields")
        fields = (
            [f.strip() for f in str(raw).split(",") if f.strip()] if raw else DEFAULT_PROFILE_FIELDS
        )
        for field in fields:
            if field not in PROFILE_FIELDS:
                raise Refusal(
                    f"(#100) Tried accessing nonexisting field ({field}) on node type (User)"
                )
        with self._lock:
            user = self.users.get(psid)
        if user is None:
            raise Refusal("No profile available for this user.", subcode=2018218)
        answer = {field: user[field] for field in fields if field in user and field != "id"}
        answer["id"] = psid
        return Answer(200, dumps(answer))

    def _upload(self, params: Mapping[str, Any]) -> Answer:
        message = _rules.json_param("message", params.get("message"))
        attachment = message.get("attachment") if isinstance(message, Mapping) else None
        if not isinstance(attachment, Mapping) or attachment.get("type") not in _rules.MEDIA_TYPES:
            raise Refusal(
                "(#100) param message[attachment][type] must be one of {image, audio, video, file}"
            )
        payload = attachment.get("payload") or {}
        if not isinstance(payload, Mapping):
            raise Refusal("(#100) param message[attachment][payload] must be a JSON object")
        upload = params.get("filedata")
        record: dict[str, Any] = {
            "type": attachment["type"],
            "is_reusable": bool(payload.get("is_reusable", False)),
        }
        if isinstance(upload, _wire.Upload):
            if len(upload.data) > MAX_ATTACHMENT_BYTES:
                raise Refusal("(#100) Attachment size exceeds allowable limit", subcode=2018109)
            record.update(filename=upload.filename, size=len(upload.data), content_type=upload.type)
        elif isinstance(payload.get("url"), str):
            record["url"] = payload["url"]
        else:
            raise Refusal("(#100) Upload attachment failure: give payload.url or filedata")
        with self._lock:
            self._ids += 1
            attachment_id = str(10**15 + self._ids)
            self.attachments[attachment_id] = record
        return Answer(200, dumps({"attachment_id": attachment_id}))

    def _messenger_profile(self, method: str, params: Mapping[str, Any]) -> Answer:
        if method == "GET":
            raw = params.get("fields")
            if not raw:
                raise Refusal("(#100) The parameter fields is required")
            fields = [f.strip() for f in str(raw).split(",") if f.strip()]
            _wire.known_profile_fields(fields)
            with self._lock:
                found = {
                    f: self.messenger_profile[f] for f in fields if f in self.messenger_profile
                }
            return Answer(200, dumps({"data": [found] if found else []}))
        if method == "DELETE":
            fields = _rules.json_param("fields", params.get("fields"))
            if isinstance(fields, str):
                fields = [f.strip() for f in fields.split(",") if f.strip()]
            if not isinstance(fields, list) or not fields:
                raise Refusal("(#100) The parameter fields is required")
            _wire.known_profile_fields(fields)
            with self._lock:
                for field in fields:
                    self.messenger_profile.pop(field, None)
            return Answer(200, _SUCCESS)
        given = {k: v for k, v in params.items() if k not in ("access_token", "appsecret_proof")}
        _wire.known_profile_fields(given)
        update = {key: _rules.json_param(key, value) for key, value in given.items()}
        with self._lock:
            _rules.check_profile_fields(update, self.messenger_profile)
            self.messenger_profile.update(update)
        return Answer(200, _SUCCESS)

    # -- faults -------------------------------------------------------------------------

    def _fault_answer(self, fault: Fault, success: Answer | None) -> Answer:
        if fault.kind is FaultKind.SERVER_ERROR:
            status = fault.status or 502
            title = f"{status} Server Error"
            page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
            return Answer(status, page.encode(), HTML_HEADERS + fault.headers)
        if fault.kind is FaultKind.MALFORMED:
            return self._malformed(fault, success)
        code, subcode, message, status, transient = fault.error_fields()
        refusal = Refusal(message, code, subcode=subcode, type=fault.error_type or "OAuthException")
        answer = refused(refusal, self._trace_id(), is_transient=transient, status=status)
        return Answer(answer.status, answer.body, answer.headers + fault.headers)

    def _malformed(self, fault: Fault, success: Answer | None) -> Answer:
        shape = fault.shape
        if shape == "html":
            page = (
                b"<!DOCTYPE html><html><head><title>Error</title></head>"
                b"<body>Sorry, something went wrong.</body></html>"
            )
            return Answer(200, page, HTML_HEADERS)
        if shape == "empty":
            return Answer(200, b"")
        if shape == "truncated":
            body = (
                success.body if success is not None else b'{"recipient_id":"0","message_id":"m_0"}'
            )
            return Answer(200, body[: len(body) // 2])
        if shape == "wrong_shape":
            return Answer(200, b'{"success":true}')
        refusal = Refusal("An unknown error occurred", 1, subcode=99)
        return Answer(200, refused(refusal, self._trace_id()).body)

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
            return Reply(200, _SUCCESS)
        if path == "/_fake/faults" and method == "GET":
            return Reply(
                200,
                dumps(
                    {
                        "faults": [f.to_dict() for f in self.faults.active],
                        "injected": dict(self.faults.injected),
                    }
                ),
            )
        if path == "/_fake/faults" and method == "POST":
            specs = data.get("faults", []) if isinstance(data, dict) else data
            try:
                if isinstance(data, dict) and data.get("replace", True) is False:
                    self.faults.add(*specs)
                else:
                    self.faults.replace(specs)
            except (ValueError, TypeError) as exc:
                return Reply(400, dumps({"error": str(exc)}))
            return Reply(200, _SUCCESS)
        if path == "/_fake/users" and method == "POST" and isinstance(data, dict):
            for psid, fields in data.items():
                self.add_user(str(psid), **dict(fields))
            return Reply(200, _SUCCESS)
        return Reply(404, dumps({"error": f"no control endpoint {method} {path}"}))

    # -- ids ----------------------------------------------------------------------------

    def _made_up_id(self, prefix: bytes, number: int, length: int) -> str:
        digest = hashlib.sha256(prefix + self._seed_bytes + number.to_bytes(8, "big")).digest()
        return base64.urlsafe_b64encode(digest).decode()[:length].rstrip("=")

    def _trace_id(self) -> str:
        with self._lock:
            self._ids += 1
            number = self._ids
        return "A" + self._made_up_id(b"t", number, 22)
