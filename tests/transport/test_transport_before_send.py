"""send_many's before_send hook: asked once per request before it goes out; refusals stay unsent."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from fmc.errors import SendWithdrawnError
from fmc.models import Page, Recipient, SendRequest, Text
from fmc.testing import FakeGraphAPI, Fault
from fmc.transport import Client, RetryPolicy

TOKEN = "EAAGbeforeSend0123456789"


def _requests(count: int) -> list[SendRequest]:
    return [SendRequest(Recipient(f"2400000000{n:05d}"), Text("news")) for n in range(count)]


class Gate:
    """A before_send hook that refuses some recipients and counts what it was asked."""

    def __init__(self, refuse: set[str]) -> None:
        self.refuse = refuse
        self.asked: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, requests: Sequence[SendRequest]) -> list[bool]:
        with self._lock:
            psids = [r.recipient.id or "" for r in requests]
            self.asked.extend(psids)
        return [psid not in self.refuse for psid in psids]


@pytest.mark.parametrize("batch_size", [None, 5], ids=["single", "batched"])
def test_refused_requests_never_reach_graph_and_say_so(batch_size: int | None) -> None:
    """A refused request gets a SendWithdrawnError and the fake never sees it."""
    requests = _requests(20)
    refused = {requests[3].recipient.id or "", requests[7].recipient.id or ""}
    gate = Gate(refused)
    fake = FakeGraphAPI(access_token=TOKEN)
    with fake.serve() as url, Client(Page(fake.page_id, TOKEN), base_url=url) as client:
        outcomes = list(client.send_many(requests, batch_size=batch_size, before_send=gate))
    withdrawn = {
        o.request.recipient.id for o in outcomes if isinstance(o.error, SendWithdrawnError)
    }
    assert withdrawn == refused
    assert set(fake.delivery_counts()) == {r.recipient.id for r in requests} - refused
    assert all(o.result is not None for o in outcomes if o.request.recipient.id not in refused)


@pytest.mark.parametrize("batch_size", [None, 5], ids=["single", "batched"])
def test_each_request_is_asked_once_however_often_it_is_retried(batch_size: int | None) -> None:
    """A throttled request retried by the policy is not handed off a second time."""
    requests = _requests(10)
    gate = Gate(set())
    fake = FakeGraphAPI(access_token=TOKEN, faults=[Fault.rate_limit(times=3)])
    retry = RetryPolicy(attempts=5, timeout=None, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0)
    page = Page(fake.page_id, TOKEN)
    with fake.serve() as url, Client(page, base_url=url, retry=retry, sleep=lambda _: None) as c:
        outcomes = list(c.send_many(requests, batch_size=batch_size, before_send=gate))
    assert all(o.error is None for o in outcomes)
    assert sorted(gate.asked) == sorted(r.recipient.id for r in requests)


def test_a_handed_off_batch_is_encoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch body is built after the handoff says which calls go, not also before it."""
    from fmc.transport import core

    encoded: list[int] = []
    encode = core.encode_batch_form

    def counting(calls: Sequence[object], **kwargs: str | None) -> dict[str, str]:
        encoded.append(len(calls))
        return encode(calls, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(core, "encode_batch_form", counting)
    requests = _requests(10)
    gate = Gate({requests[0].recipient.id or ""})
    fake = FakeGraphAPI(access_token=TOKEN)
    with fake.serve() as url, Client(Page(fake.page_id, TOKEN), base_url=url) as client:
        outcomes = list(client.send_many(requests, batch_size=5, before_send=gate))
    assert sum(o.error is None for o in outcomes) == 9
    assert sorted(encoded) == [4, 5]
