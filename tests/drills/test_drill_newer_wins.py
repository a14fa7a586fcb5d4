"""Drill: late and odd events against a real webhook process, on SQLite and the real PostgreSQL.

* Newer wins: a "stop" at t2, then a late "start" from t1 < t2 (and the same
  "start" redelivered after the dedup window could have expired) leave the
  person opted out, so a NEWS send stays refused; the same for a recurring
  notification token stopped at t2 and opted in at t1.
* Per-event isolation: a delivery of three messages whose middle sender id
  cannot be stored (a lone surrogate; a NUL) is answered 200, the two others
  are registered, and a redelivery changes nothing.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import drill_support as ds
import pytest
import webhook_drill_support as wds

import fmc
from fmc.testing import message_event, optin_event, signature_headers, signed_delivery

T2 = ds.NOW - timedelta(minutes=10)
T1 = T2 - timedelta(minutes=5)


@pytest.fixture(params=["sqlite", "postgres"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Where the worker keeps its store: a SQLite file or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield {"db": str(tmp_path / "fmc.db")}
        return
    dsn = os.environ.get("FMC_TEST_POSTGRES_DSN")
    if not dsn:
        pytest.skip("FMC_TEST_POSTGRES_DSN is not set")
    import psycopg

    schema = f"fmc_drill_{uuid.uuid4().hex[:10]}"
    yield {"dsn": dsn, "schema": schema}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def signed(*events: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A signed delivery of ``events``."""
    return signed_delivery(list(events), ds.APP_SECRET)


def subscriber(spec: dict[str, str], psid: str) -> fmc.Subscriber | None:
    """The subscriber as the worker's store has it."""
    with wds.open_store(spec) as store:
        found: fmc.Subscriber | None = store.get(ds.PAGE_ID, psid)
        return found


@pytest.mark.slow
def test_a_late_start_cannot_undo_a_newer_stop(tmp_path: Path, spec: dict[str, str]) -> None:
    """stop at t2, start from t1, start redelivered: opted out, NEWS refused."""
    stop = signed(message_event("p1", "stop", timestamp=T2, mid="m_stop"))
    start = signed(message_event("p1", "start", timestamp=T1, mid="m_start"))
    with wds.worker(tmp_path, spec) as server:
        answers = [wds.post(server.url, *delivery) for delivery in (stop, start, start)]
    assert answers == [200, 200, 200]
    person = subscriber(spec, "p1")
    assert person is not None
    assert person.status is fmc.SubscriberStatus.OPTED_OUT
    policy = fmc.MessagingPolicy(permissions={"pages_messaging"})
    assert not policy.decide(person, fmc.Purpose.NEWS, T2 + timedelta(minutes=1)).allowed


@pytest.mark.slow
def test_a_late_opt_in_cannot_undo_a_newer_token_stop(tmp_path: Path, spec: dict[str, str]) -> None:
    """A recurring token stopped at t2 and opted in at t1 (arriving later) stays stopped."""
    token = "NM-TOKEN-drill-0123456789"
    stop = optin_event(
        "p1", token=token, payload="news", timestamp=T2, notification_status="STOP NOTIFICATIONS"
    )
    opt_in = optin_event("p1", token=token, payload="news", timestamp=T1)
    with wds.worker(tmp_path, spec) as server:
        answers = [wds.post(server.url, *signed(event)) for event in (stop, opt_in)]
    assert answers == [200, 200]
    person = subscriber(spec, "p1")
    assert person is not None
    assert [t.status for t in person.tokens] == [fmc.TokenStatus.STOPPED]


@pytest.mark.slow
@pytest.mark.parametrize("odd", ["p\ud800", "p\x00"], ids=["lone-surrogate", "nul"])
def test_one_odd_event_costs_no_neighbour(tmp_path: Path, spec: dict[str, str], odd: str) -> None:
    """A middle sender id no database stores: 200, both neighbours registered, redelivery too."""
    events = [
        message_event("p1", "one", mid="m_one", timestamp=T1),
        message_event(odd, "two", mid="m_two", timestamp=T1),
        message_event("p3", "three", mid="m_three", timestamp=T1),
    ]
    payload = {"object": "page", "entry": [{"id": ds.PAGE_ID, "time": 1, "messaging": events}]}
    body = json.dumps(payload).encode()  # the odd id travels as a JSON escape, as from Meta
    headers = signature_headers(body, ds.APP_SECRET)
    with wds.worker(tmp_path, spec) as server:
        answers = [wds.post(server.url, body, headers) for _ in range(2)]
    assert answers == [200, 200]
    with wds.open_store(spec) as store:
        assert store.get(ds.PAGE_ID, "p1") is not None
        assert store.get(ds.PAGE_ID, "p3") is not None
        assert store.count(ds.PAGE_ID) == 2
