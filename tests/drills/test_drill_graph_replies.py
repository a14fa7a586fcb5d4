"""Drill: Graph answers fmc cannot read become typed fmc errors, never a crash.

HTML pages, empty bodies, truncated JSON, JSON of the wrong shape, a 200 with
an ``error`` object, non-UTF-8 bytes: through :meth:`fmc.Client.send`,
:meth:`fmc.Client.send_many` (one call per send, and Graph batches, broken as
a whole or item by item) and the user profile, every such answer is an
:class:`fmc.FMCError` — ambiguous when it answered a send with a 2xx, since
Meta may have sent the message — and never an ``AttributeError``,
``KeyError``, ``TypeError`` or bare ``ValueError``. Also over the loopback
fake with its own malformed faults.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import drill_support as ds
import pytest
import requests_mock

import fmc
from fmc.testing import DEFAULT_BASE_URL, FakeGraphAPI, FakeGraphServer, Fault

MESSAGES = re.compile(r"^https://graph\.facebook\.com/v[\d.]+/[^/?]+/messages")
BATCH = re.compile(r"^https://graph\.facebook\.com/v[\d.]+/(\?.*)?$")
PROFILE = re.compile(r"^https://graph\.facebook\.com/v[\d.]+/psid1")
HTML = b"<!DOCTYPE html><html><body>Sorry, something went wrong.</body></html>"
SUCCESS = b'{"recipient_id":"psid1","message_id":"m_1"}'

# id, HTTP status, body, whether the send may have gone out (2xx: ambiguous)
REPLIES: list[tuple[str, int, bytes, bool]] = [
    ("html-200", 200, HTML, True),
    ("empty-200", 200, b"", True),
    ("blank-200", 200, b"  \n", True),
    ("truncated-200", 200, SUCCESS[: len(SUCCESS) // 2], True),
    ("list-200", 200, b"[1,2,3]", True),
    ("number-200", 200, b"42", True),
    ("string-200", 200, b'"ok"', True),
    ("null-200", 200, b"null", True),
    ("no-message-id", 200, b'{"recipient_id":"psid1"}', True),
    ("message-id-number", 200, b'{"recipient_id":"psid1","message_id":123}', True),
    ("message-id-object", 200, b'{"message_id":{"a":1}}', True),
    ("success-true", 200, b'{"success":true}', True),
    ("non-utf8-200", 200, b'{"message_id":"m_\xff\xfe"}', True),
    ("nan-200", 200, b'{"message_id":NaN}', True),
    ("deep-200", 200, b"[" * 100_000, True),
    ("error-object-200", 200, b'{"error":{"message":"x","code":1,"error_subcode":99}}', False),
    ("error-string-200", 200, b'{"error":"boom"}', False),
    ("error-null-200", 200, b'{"error":null}', False),
    ("html-400", 400, HTML, False),
    ("empty-400", 400, b"", False),
    ("truncated-error-400", 400, b'{"error":{"message":"(#100) Inv', False),
    ("error-code-string", 400, b'{"error":{"code":"abc","error_subcode":[1],"message":5}}', False),
    ("error-list", 400, b'{"error":[1,2]}', False),
    ("json-list-400", 400, b"[]", False),
    ("non-utf8-400", 400, b"\xff\xfe\xfd", False),
    ("html-500", 500, HTML, False),
    ("html-503", 503, HTML, False),
    ("gateway-timeout-504", 504, HTML, True),
    ("redirect-302", 302, b"", False),
    ("teapot-418", 418, b"{}", False),
]
IDS = [r[0] for r in REPLIES]
PARAMS = [r[1:] for r in REPLIES]


def check(error: BaseException | None, ambiguous: bool) -> None:
    """A typed fmc error, ambiguous exactly when the send may have gone out."""
    # An FMCError is never an AttributeError, KeyError, TypeError or RecursionError.
    assert isinstance(error, fmc.FMCError), repr(error)
    assert isinstance(error, fmc.AmbiguousSendError) is ambiguous, repr(error)
    str(error), repr(error)  # both render


@pytest.fixture
def client() -> Iterator[fmc.Client]:
    # No retries: each answer is seen once, as it is.
    with ds.client(DEFAULT_BASE_URL, attempts=1) as made:
        yield made


def _request(psid: str = "psid1") -> fmc.SendRequest:
    return fmc.SendRequest(fmc.Recipient(psid), fmc.Text("hi"))


@pytest.mark.parametrize(("status", "body", "ambiguous"), PARAMS, ids=IDS)
def test_send_raises_a_typed_error(
    client: fmc.Client, status: int, body: bytes, ambiguous: bool
) -> None:
    """Client.send turns the answer into an fmc error."""
    with requests_mock.Mocker() as mocker:
        mocker.post(MESSAGES, status_code=status, content=body)
        with pytest.raises(fmc.FMCError) as raised:
            client.send(fmc.Recipient("psid1"), fmc.Text("hi"))
    check(raised.value, ambiguous)


@pytest.mark.parametrize(("status", "body", "ambiguous"), PARAMS, ids=IDS)
def test_send_many_reports_a_typed_error(
    client: fmc.Client, status: int, body: bytes, ambiguous: bool
) -> None:
    """send_many (one call per send) puts the typed error in each outcome."""
    with requests_mock.Mocker() as mocker:
        mocker.post(MESSAGES, status_code=status, content=body)
        outcomes = list(client.send_many([_request(f"p{i}") for i in range(3)], concurrency=2))
    assert len(outcomes) == 3
    for outcome in outcomes:
        check(outcome.error, ambiguous)


def _utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


# A batch item's body is a JSON string inside the batch answer: it cannot hold raw bytes.
ITEMS = [r for r in REPLIES if _utf8(r[2])]


@pytest.mark.parametrize(
    ("status", "body", "ambiguous"), [r[1:] for r in ITEMS], ids=[r[0] for r in ITEMS]
)
def test_a_broken_batch_item_is_a_typed_error(
    client: fmc.Client, status: int, body: bytes, ambiguous: bool
) -> None:
    """In a Graph batch, the broken item's outcome holds the typed error; the others succeed."""
    items = [
        {"code": 200, "body": SUCCESS.decode()},
        {"code": status, "body": body.decode()},
        {"code": 200, "body": SUCCESS.decode()},
    ]
    with requests_mock.Mocker() as mocker:
        mocker.post(BATCH, status_code=200, content=json.dumps(items).encode())
        outcomes = list(client.send_many([_request(f"p{i}") for i in range(3)], batch_size=3))
    by_psid = {o.request.recipient.id: o for o in outcomes}
    assert by_psid["p0"].ok
    assert by_psid["p2"].ok
    check(by_psid["p1"].error, ambiguous)


BATCH_ANSWERS: list[tuple[str, int, bytes, bool]] = [
    *REPLIES,
    ("object-not-list", 200, b'{"data":[]}', True),
    ("short-list", 200, json.dumps([{"code": 200, "body": SUCCESS.decode()}]).encode(), True),
    ("long-list", 200, json.dumps([{"code": 200, "body": "{}"}] * 5).encode(), True),
    ("items-not-objects", 200, b"[1,2,3]", True),
    ("code-as-string", 200, b'[{"code":"200","body":"{}"},null,null]', True),
    ("code-as-bool", 200, b'[{"code":true,"body":"{}"},null,null]', True),
    ("body-as-object", 200, b'[{"code":200,"body":{"message_id":"m"}},null,null]', True),
    ("all-null", 200, b"[null,null,null]", True),
]


@pytest.mark.parametrize(
    ("status", "body", "ambiguous"),
    [b[1:] for b in BATCH_ANSWERS],
    ids=[b[0] for b in BATCH_ANSWERS],
)
def test_a_broken_batch_answer_is_a_typed_error_for_every_item(
    client: fmc.Client, status: int, body: bytes, ambiguous: bool
) -> None:
    """A batch answer broken as a whole gives every item a typed error."""
    with requests_mock.Mocker() as mocker:
        mocker.post(BATCH, status_code=status, content=body)
        outcomes = list(client.send_many([_request(f"p{i}") for i in range(3)], batch_size=3))
    assert len(outcomes) == 3
    for outcome in outcomes:
        check(outcome.error, ambiguous)


@pytest.mark.parametrize(("status", "body", "ambiguous"), PARAMS, ids=IDS)
def test_the_user_profile_raises_a_typed_error(
    client: fmc.Client, status: int, body: bytes, ambiguous: bool
) -> None:
    """Reading a profile (no send) never crashes on a broken answer, and is never ambiguous."""
    with requests_mock.Mocker() as mocker:
        mocker.get(PROFILE, status_code=status, content=body)
        try:
            profile = client.get_user_profile("psid1")
        except fmc.FMCError as error:
            check(error, ambiguous=False)
        else:
            # A few odd bodies are still a JSON object with nothing wrong in it.
            assert profile is not None


@pytest.fixture
def fake_server() -> Iterator[FakeGraphServer]:
    fake = FakeGraphAPI(access_token=ds.PAGE_TOKEN, app_secret=ds.APP_SECRET)
    with FakeGraphServer(fake) as server:
        yield server


SHAPES = ["html", "empty", "truncated", "wrong_shape", "error_200"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("batch_size", [None, 5], ids=["calls", "batch"])
def test_the_loopback_fakes_malformed_replies_are_typed_errors(
    fake_server: FakeGraphServer, shape: str, batch_size: int | None
) -> None:
    """Over a real socket, each malformed shape (per send and per request) is a typed error."""
    fake = fake_server.fake
    fake.faults.add(Fault.malformed(shape, times=2), Fault.malformed(shape, per="request", times=1))
    with ds.client(fake_server.url, attempts=1) as client:
        outcomes = list(
            client.send_many([_request(f"p{i}") for i in range(10)], batch_size=batch_size)
        )
        try:
            client.send(fmc.Recipient("single"), fmc.Text("hi"))
        except fmc.FMCError as error:
            check(error, isinstance(error, fmc.AmbiguousSendError))
    assert len(outcomes) == 10
    failed = [o for o in outcomes if not o.ok]
    assert failed
    for outcome in failed:
        check(outcome.error, isinstance(outcome.error, fmc.AmbiguousSendError))
        if shape in ("html", "empty", "truncated", "wrong_shape"):
            assert outcome.ambiguous, "a garbled 200 to a send may have gone out"
