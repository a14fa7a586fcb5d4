"""How the fake Graph API answers one request: routing, access checks, sends, batches, faults.

:func:`answer` is :meth:`FakeGraphAPI.handle <fmc.testing.FakeGraphAPI.handle>`
without the control endpoints. It reads and changes the fake only through
:class:`GraphState`, so this module does not import the fake's.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

import attrs

from fmc.testing import _endpoints, _rules, _wire
from fmc.testing._rules import Refusal
from fmc.testing._wire import Answer, dumps, refused
from fmc.testing.faults import Fault, FaultKind, Per
from fmc.testing.injector import FaultInjector
from fmc.testing.platform_graph import PlatformGraph
from fmc.testing.records import JSON_HEADERS, Ledger, Reply
from fmc.testing.tenants_graph import TenantsGraph

__all__ = ["GraphState", "answer"]

_VERSION = re.compile(r"v\d+\.\d+\Z")
_USAGE_HEADERS = frozenset(
    {"x-app-usage", "x-page-usage", "x-business-use-case-usage", "x-ad-account-usage"}
)


class GraphState(Protocol):
    """What answering reads and changes: a :class:`~fmc.testing.FakeGraphAPI`'s state."""

    page_id: str
    page_name: str
    access_token: str | None
    app_secret: str | None
    api_version: str | None
    latency: float
    faults: FaultInjector
    users: dict[str, dict[str, Any]]
    messenger_profile: dict[str, Any]
    attachments: dict[str, dict[str, Any]]
    platform: PlatformGraph
    tenants: TenantsGraph
    _lock: threading.Lock
    _ledger: Ledger
    _wall_clock: Callable[[], datetime]


@attrs.frozen
class _Prepared:
    psids: tuple[str, ...]
    run: Callable[[], Answer]


def answer(
    fake: GraphState, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
) -> Reply:
    """Record one Graph request and answer it, with the faults that fire on it.

    Args:
        fake: The fake's state.
        method: The HTTP method, upper case.
        path: The path, without the query string.
        query: The query string.
        headers: The request headers (any case).
        body: The raw body.

    Returns:
        The reply (which may ask the transport to wait or drop).
    """
    number = fake._ledger.add_request(method, path)
    try:
        params = _wire.params(headers, body, query)
        prepared = prepare(fake, method, path, params, number)
    except Refusal as refusal:
        refusal_answer = refused(refusal, fake._ledger.trace_id())
        prepared = _Prepared((), lambda: refusal_answer)
    delay = fake.latency + fake.faults.delay(prepared.psids)
    fault = fake.faults.pick(Per.REQUEST, prepared.psids)
    if fault is None:
        result = prepared.run()
    elif fault.kind is FaultKind.DROP_BEFORE:
        return Reply(0, b"", (), 0.0, "before", fault.exception or "connect_timeout")
    elif fault.kind is FaultKind.DROP_AFTER:
        prepared.run()
        return Reply(0, b"", (), delay, "after", fault.exception or "read_timeout")
    else:
        result = _fault_answer(fake, fault, prepared.run() if fault.delivers else None)
    return Reply(result.status, result.body, result.headers, delay)


def prepare(
    fake: GraphState,
    method: str,
    path: str,
    params: dict[str, Any],
    number: int,
    index: int | None = None,
) -> _Prepared:
    """Route one call; ``index`` is its position in a batch (``None`` outside one)."""
    parts = [part for part in path.split("/") if part]
    if parts and _VERSION.match(parts[0]):
        version = parts.pop(0)
        if fake.api_version is not None and version != fake.api_version:
            raise Refusal(
                f"(#12) {version} is not available to this app; call {fake.api_version}",
                12,
            )
    elif parts and parts[0].startswith("v") and parts[0][1:2].isdigit():
        raise Refusal(f"Unknown path components: /{parts[0]}", 2500)
    if not parts:
        if method != "POST" or index is not None:
            raise _wire.unsupported(method, "")
        items = _wire.batch_items(params)
        psids = tuple(psid for item in items if (psid := _wire.item_psid(item)) is not None)
        return _Prepared(psids, lambda: _batch(fake, items, params, number))
    node = parts[0]
    edge = parts[1] if len(parts) > 1 else None
    if len(parts) > 2:
        raise Refusal("Unknown path components: /" + "/".join(parts[2:]), 2500)
    is_page = node in ("me", fake.page_id) or fake.tenants.is_page(node)
    routed = fake.tenants.route(method, node, edge, params) or fake.platform.route(
        method, node, edge, params
    )
    if routed is not None:
        return _authed(fake, params, routed)
    if edge is None:
        if method != "GET":
            raise _wire.unsupported(method, node)
        if is_page:
            return _authed(fake, params, lambda: _get_page(fake))
        return _authed(fake, params, lambda: _profile(fake, node, params), (node,))
    if not is_page:
        raise _wire.unsupported(method, node)
    if edge == "messages" and method == "POST":
        psid = _wire.param_psid(params)
        return _authed(
            fake, params, lambda: _send(fake, params, number, index), (psid,) if psid else ()
        )
    if edge == "message_attachments" and method == "POST":
        return _authed(fake, params, lambda: _upload(fake, params))
    if edge == "messenger_profile" and method in ("GET", "POST", "DELETE"):
        lock, current = fake._lock, fake.messenger_profile
        return _authed(
            fake, params, lambda: _endpoints.messenger_profile(method, params, current, lock)
        )
    if edge in ("messages", "message_attachments", "messenger_profile"):
        raise _wire.unsupported(method, f"{node}/{edge}")
    raise Refusal(f"Unknown path components: /{edge}", 2500)


def _authed(
    fake: GraphState,
    params: Mapping[str, Any],
    run: Callable[[], Answer],
    psids: tuple[str, ...] = (),
) -> _Prepared:
    """The call ``run`` for ``psids``, answered only once the caller's token and proof pass."""

    def checked() -> Answer:
        try:
            _check_auth(fake, params)
            return run()
        except Refusal as refusal:
            return refused(refusal, fake._ledger.trace_id())

    return _Prepared(psids, checked)


def _check_auth(fake: GraphState, params: Mapping[str, Any]) -> None:
    _endpoints.check_auth(
        params,
        access_token=fake.access_token,
        app_secret=fake.app_secret,
        tenants=fake.tenants,
    )


def _send(fake: GraphState, params: Mapping[str, Any], number: int, index: int | None) -> Answer:
    body = _rules.check_send(params)
    fake.platform.check_send(body.messaging_type, body.message, body.tag)
    psid = body.recipient.get("id")
    fault = fake.faults.pick(Per.SEND, (psid,) if psid else ())
    if fault is not None and not fault.delivers:
        return _fault_answer(fake, fault, None)
    sent = fake._ledger.add_send(
        with_message_id=body.message is not None,
        wall_time=fake._wall_clock(),
        request_number=number,
        batch_index=index,
        **attrs.asdict(body, recurse=False),
    )
    fields: dict[str, str] = {}
    if psid is not None:
        fields["recipient_id"] = psid
    if sent.message_id is not None:
        fields["message_id"] = sent.message_id
    success = Answer(200, dumps(fields))
    return success if fault is None else _fault_answer(fake, fault, success)


def _batch(
    fake: GraphState, items: list[_wire.BatchItem], params: Mapping[str, Any], number: int
) -> Answer:
    if "access_token" in params:
        # A top-level token is only the items' fallback, but a bad one is refused at once.
        try:
            _check_auth(fake, params)
        except Refusal as refusal:
            return refused(refusal, fake._ledger.trace_id())
    include_headers = str(params.get("include_headers", "true")).lower() != "false"
    inherited = {key: params[key] for key in ("access_token", "appsecret_proof") if key in params}
    results: list[dict[str, Any]] = []
    # Like Meta, report throttling of the app or Page on the batch's own
    # answer too: usage headers describe the caller, not one call.
    usage: dict[str, tuple[str, str]] = {}
    for index, (method, path, item_params) in enumerate(items):
        merged = {**inherited, **item_params}
        try:
            item = prepare(fake, method, path, merged, number, index).run()
        except Refusal as refusal:
            item = refused(refusal, fake._ledger.trace_id())
        result: dict[str, Any] = {"code": item.status}
        if include_headers:
            result["headers"] = [{"name": n, "value": v} for n, v in item.headers]
        for name, value in item.headers:
            if name.lower() in _USAGE_HEADERS:
                usage[name.lower()] = (name, value)
        result["body"] = item.body.decode("utf-8", "replace")
        results.append(result)
    return Answer(200, dumps(results), JSON_HEADERS + tuple(usage.values()))


def _get_page(fake: GraphState) -> Answer:
    return Answer(200, dumps({"name": fake.page_name, "id": fake.page_id}))


def _profile(fake: GraphState, psid: str, params: Mapping[str, Any]) -> Answer:
    with fake._lock:
        user = fake.users.get(psid)
    return _endpoints.profile(psid, params, user)


def _upload(fake: GraphState, params: Mapping[str, Any]) -> Answer:
    record = _endpoints.upload_record(params)
    attachment_id = str(10**15 + fake._ledger.next_number())
    with fake._lock:
        fake.attachments[attachment_id] = record
    return Answer(200, dumps({"attachment_id": attachment_id}))


def _fault_answer(fake: GraphState, fault: Fault, success: Answer | None) -> Answer:
    return _wire.fault_answer(fault, success, fake._ledger.trace_id)
