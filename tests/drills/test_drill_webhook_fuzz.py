"""Drill: hostile webhook input, fuzzed with hypothesis (11,000 examples across strategies).

Every body goes to :meth:`fmc.WebhookHandler.respond` of a Channel's webhook
(so registration runs on whatever parses), most of them correctly signed so
they get past the signature check. Whatever the input — arbitrary bytes, deep
nesting, huge numbers, wrong types in every field, missing fields, duplicate
keys, invalid UTF-8, odd headers — the answer is 200, 400, 403 or 413; never
a 5xx, never an exception, never an error logged, and always quick.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import drill_support as ds
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fmc
from fmc.testing import (
    delivery_event,
    echo_event,
    message_event,
    optin_event,
    policy_enforcement_event,
    postback_event,
    reaction_event,
    read_event,
    referral_event,
    signature_headers,
)

ALLOWED = {200, 400, 403, 413}
EXAMPLES = 1_000  # per strategy; eleven strategies
SLOWEST_CALL = 0.5
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


class Errors(logging.Handler):
    """Collects every record at ERROR or above, on the root logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class NeverSeen:
    """A dedup store that has seen nothing, so every example reaches registration."""

    def dedup_check_and_mark(self, key: str, *, now: datetime, window: timedelta) -> bool:
        return False


class Target:
    """A Channel's webhook over a MemoryStore, and the checks every answer must pass."""

    def __init__(self) -> None:
        self.client = ds.client("http://127.0.0.1:9")
        self.channel = ds.channel(self.client, fmc.MemoryStore())
        self.handler = self.channel.webhook
        self.handler.dedup = NeverSeen()
        self.handler.on_any(lambda event: None)
        self.errors = Errors()

    def post(self, body: bytes, headers: Any, query: Any = None) -> int:
        self.errors.records.clear()
        # CPU time, not wall time: the bound catches pathological work (a parser
        # gone quadratic), and other processes on a loaded machine cannot trip it.
        started = time.process_time()
        response = self.handler.respond("POST", query or {}, headers, body)
        elapsed = time.process_time() - started
        assert response.status in ALLOWED, (response.status, response.body)
        assert elapsed < SLOWEST_CALL, f"{elapsed:.3f}s of CPU for {len(body)} bytes"
        assert self.errors.records == [], [r.getMessage() for r in self.errors.records]
        return response.status

    def post_signed(self, body: bytes) -> int:
        return self.post(body, signature_headers(body, ds.APP_SECRET))


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    made = Target()
    root = logging.getLogger()
    root.addHandler(made.errors)
    try:
        yield made
    finally:
        root.removeHandler(made.errors)
        made.client.close()


# -- material ----------------------------------------------------------------------------

_T = 1_790_000_000_000


def _templates() -> list[dict[str, Any]]:
    """One real-shaped delivery per event kind, as Meta sends them."""
    events = [
        message_event("111", "hi", timestamp=_T, mid="m_1", quick_reply_payload="QR"),
        message_event("111", None, timestamp=_T, mid="m_2", attachments=[{"type": "image"}]),
        echo_event("111", "echo", timestamp=_T, mid="m_3"),
        postback_event("111", "GET_STARTED", timestamp=_T, mid="m_4"),
        optin_event("111", timestamp=_T, token="tok", payload="news", frequency="DAILY"),
        reaction_event("111", "m_1", timestamp=_T),
        read_event("111", watermark=_T, timestamp=_T),
        delivery_event("111", _T, mids=["m_1"], timestamp=_T),
        referral_event("111", "ad", timestamp=_T),
        policy_enforcement_event(action="block", reason="spam", timestamp=_T),
    ]
    return [
        {"object": "page", "entry": [{"id": ds.PAGE_ID, "time": _T, "messaging": [event]}]}
        for event in events
    ]


TEMPLATES = _templates()

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside a decoded JSON document."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _mutate(document: Any, path: tuple[Any, ...], change: Callable[[Any, Any], None]) -> Any:
    copy = json.loads(json.dumps(document))
    if not path:
        return copy
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    change(parent, path[-1])
    return copy


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def _pairs_json(value: Any, draw: Any) -> str:
    """JSON text of ``value`` in which some objects repeat a key with another value."""
    if isinstance(value, dict):
        parts = [f"{json.dumps(k)}:{_pairs_json(v, draw)}" for k, v in value.items()]
        if value and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(value)))
            repeated = json.dumps(draw(json_values), allow_nan=True)
            parts.insert(draw(st.integers(0, len(parts))), f"{json.dumps(key)}:{repeated}")
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_pairs_json(v, draw) for v in value) + "]"
    return json.dumps(value, allow_nan=True)


# -- the strategies ----------------------------------------------------------------------


@pytest.mark.slow
@fuzz
@given(body=st.binary(max_size=4096))
def test_arbitrary_signed_bytes(target: Target, body: bytes) -> None:
    """Arbitrary bytes with a valid signature: 400 (or 200), nothing else."""
    target.post_signed(body)


@pytest.mark.slow
@fuzz
@given(
    body=st.binary(max_size=512),
    headers=st.lists(
        st.tuples(
            st.sampled_from(
                ["X-Hub-Signature-256", "x-hub-signature-256", "X-Hub-Signature", "Content-Type"]
            )
            | st.text(max_size=20),
            st.text(max_size=80),
        ),
        max_size=4,
    ),
    query=st.dictionaries(
        st.sampled_from(["redirect_to", "hub.mode", "x"]) | st.text(max_size=10),
        st.text(max_size=40) | st.lists(st.text(max_size=10), max_size=3),
        max_size=3,
    ),
)
def test_arbitrary_headers_and_query(
    target: Target, body: bytes, headers: list[tuple[str, str]], query: dict[str, Any]
) -> None:
    """Random header pairs, repeated signature headers and odd queries: 403 or 400, never 5xx."""
    target.post(body, headers, query)


@pytest.mark.slow
@fuzz
@given(document=json_values)
def test_any_json_document(target: Target, document: Any) -> None:
    """Any JSON document, signed: refused with 400 unless it is a delivery."""
    target.post_signed(_dumps(document))


@pytest.mark.slow
@fuzz
@given(data=st.data(), template=st.sampled_from(TEMPLATES))
def test_wrong_type_in_any_field(target: Target, data: Any, template: dict[str, Any]) -> None:
    """A real delivery with one field (at any depth) replaced by any JSON value."""
    path = data.draw(st.sampled_from(list(_paths(template))[1:]))
    replacement = data.draw(json_values)

    def replace(parent: Any, key: Any) -> None:
        parent[key] = replacement

    target.post_signed(_dumps(_mutate(template, path, replace)))


odd_strings = st.one_of(
    st.just(""),
    st.sampled_from([" ", "\x00", "0", "-1", ds.PAGE_ID, "1" * 300, "\u202e\ufeff", "👍" * 50]),
    st.text(max_size=30),
)
odd_numbers = st.one_of(
    st.just(0),
    st.sampled_from([-1, 2**31, 2**53 + 1, 2**63, -(2**63), 253402300799999, -62135596800000]),
    st.integers(min_value=-(2**64), max_value=2**64),
)


@pytest.mark.slow
@fuzz
@given(data=st.data(), template=st.sampled_from(TEMPLATES))
def test_odd_values_of_the_right_type(target: Target, data: Any, template: dict[str, Any]) -> None:
    """One or two strings or numbers of a real delivery replaced by odd ones of the same type."""
    leaves = [
        path
        for path in _paths(template)
        if path and type(_at(template, path)) in (str, int)  # not bool, not containers
    ]
    document = template
    for path in data.draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=2)):
        old = _at(template, path)
        new = data.draw(odd_strings if isinstance(old, str) else odd_numbers)

        def replace(parent: Any, key: Any, new: Any = new) -> None:
            parent[key] = new

        document = _mutate(document, path, replace)
    target.post_signed(_dumps(document))


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


@pytest.mark.slow
@fuzz
@given(data=st.data(), template=st.sampled_from(TEMPLATES))
def test_missing_fields(target: Target, data: Any, template: dict[str, Any]) -> None:
    """A real delivery with up to three fields (at any depth) removed."""
    document = template
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))

        def delete(parent: Any, key: Any) -> None:
            del parent[key]

        document = _mutate(document, path, delete)
    target.post_signed(_dumps(document))


@pytest.mark.slow
@fuzz
@given(data=st.data(), template=st.sampled_from(TEMPLATES))
def test_duplicate_keys(target: Target, data: Any, template: dict[str, Any]) -> None:
    """A real delivery whose objects repeat keys with other values (the last one wins)."""
    target.post_signed(_pairs_json(template, data.draw).encode())


@pytest.mark.slow
@fuzz
@given(
    data=st.data(),
    template=st.sampled_from(TEMPLATES),
    junk=st.sampled_from(
        [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80"]
    ),
)
def test_invalid_utf8(target: Target, data: Any, template: dict[str, Any], junk: bytes) -> None:
    """A real delivery with invalid UTF-8 spliced in anywhere: 400, never a crash."""
    body = _dumps(template)
    at = data.draw(st.integers(0, len(body)))
    target.post_signed(body[:at] + junk + body[at:])


@pytest.mark.slow
@fuzz
@given(
    depth=st.integers(1, 200_000),
    opener=st.sampled_from(["[", '{"a":', '{"object":"page","entry":[']),
    closed=st.booleans(),
)
def test_deep_nesting(target: Target, depth: int, opener: str, closed: bool) -> None:
    """Nesting up to 200,000 levels deep: 400 or 413, never a RecursionError."""
    closer = {"[": "]", '{"a":': "}", '{"object":"page","entry":[': "]}"}[opener]
    text = opener * depth + "0" + (closer * depth if closed else "")
    target.post_signed(text.encode())


_NUMBER_FIELDS = ("time", "timestamp", "watermark", "id", "seq")


@pytest.mark.slow
@fuzz
@given(
    data=st.data(),
    template=st.sampled_from(TEMPLATES),
    number=st.sampled_from(
        ["1e999", "-1e999", "NaN", "Infinity", "-0", "1e-999", "9" * 5000, "-" + "9" * 400]
    )
    | st.integers(min_value=-(10**400), max_value=10**400).map(str)
    | st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
def test_huge_numbers(target: Target, data: Any, template: dict[str, Any], number: str) -> None:
    """Timestamps, watermarks and ids as huge, tiny, infinite or NaN numbers."""
    paths = [p for p in _paths(template) if p and p[-1] in _NUMBER_FIELDS]
    path = data.draw(st.sampled_from(paths))
    marker = "__HUGE_NUMBER__"

    def replace(parent: Any, key: Any) -> None:
        parent[key] = marker

    text = json.dumps(_mutate(template, path, replace)).replace(f'"{marker}"', number)
    target.post_signed(text.encode())


@pytest.mark.slow
@fuzz
@given(data=st.data(), template=st.sampled_from(TEMPLATES))
def test_events_repeated_and_mixed(target: Target, data: Any, template: dict[str, Any]) -> None:
    """Entries and events of every kind, repeated, reordered and mixed with junk items."""
    items = data.draw(
        st.lists(
            st.sampled_from([t["entry"][0]["messaging"][0] for t in TEMPLATES]) | json_values,
            max_size=8,
        )
    )
    entries = [
        {"id": data.draw(st.sampled_from([ds.PAGE_ID, "other", 1, None])), "messaging": items},
        *template["entry"],
    ]
    key = data.draw(st.sampled_from(["messaging", "standby", "changes"]))
    entries[0][key] = entries[0].pop("messaging")
    target.post_signed(_dumps({"object": "page", "entry": entries}))
