"""Drill: 2,000 signed webhook deliveries from 8 threads while a broadcast runs on the same file.

The webhook (dedup marks and subscriber registration) and the broadcast
(audience pages, journal claims and records) all write to one SQLite file at
the same time. Every delivery is answered 200, every person who wrote is
registered, every event is dispatched exactly once, no "database is locked"
(or any other error) escapes into a log, and the broadcast finishes cleanly.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import drill_support as ds
import pytest

import fmc
from fmc.testing import FakeGraphAPI, message_event, signed_delivery

DELIVERIES = 2_000
THREADS = 8
BROADCAST_AUDIENCE = 5_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[fmc.SQLiteStore]:
    with fmc.SQLiteStore(tmp_path / "drill.db") as sqlite:
        yield sqlite


def _delivery(number: int) -> tuple[bytes, dict[str, str], str]:
    """Delivery ``number``: one message from person ``w…``, with its own mid."""
    psid = f"w{number:06d}"
    mid = f"m_drill_{number}"
    at = ds.NOW - timedelta(minutes=5, milliseconds=number)
    body, headers = signed_delivery(
        message_event(psid, f"hello {number}", timestamp=at, mid=mid), ds.APP_SECRET
    )
    return body, headers, mid


@pytest.mark.slow
def test_webhook_and_broadcast_share_one_sqlite_file_under_load(
    store: fmc.SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    """8 webhook threads + a broadcast on one SQLite file: all 200, all registered, none lost."""
    caplog.set_level(logging.WARNING)
    ds.register(store, ds.psids(BROADCAST_AUDIENCE))
    deliveries = [_delivery(n) for n in range(DELIVERIES)]
    fake = FakeGraphAPI(access_token=ds.PAGE_TOKEN, app_secret=ds.APP_SECRET, latency=0.002)
    statuses: Counter[int] = Counter()
    dispatched: list[str] = []
    during_broadcast = 0
    broadcasting = threading.Event()
    reports: list[fmc.BroadcastReport] = []
    lock = threading.Lock()

    with fake.serve() as url, ds.client(url, concurrency=8) as client:
        channel = ds.channel(client, store)
        handler = channel.webhook
        handler.on(fmc.MessageEvent, lambda event: dispatched.append(event.mid))

        def broadcast() -> None:
            broadcasting.set()
            try:
                reports.append(channel.broadcast(fmc.Text("drill"), ds.NEWS, broadcast_id="load"))
            finally:
                broadcasting.clear()

        def post(share: list[tuple[bytes, dict[str, str], str]]) -> None:
            nonlocal during_broadcast
            for body, headers, _ in share:
                response = handler.respond("POST", {}, headers, body)
                with lock:
                    statuses[response.status] += 1
                    during_broadcast += broadcasting.is_set()

        sender = threading.Thread(target=broadcast)
        sender.start()
        assert broadcasting.wait(5)
        posters = [
            threading.Thread(target=post, args=(deliveries[i::THREADS],)) for i in range(THREADS)
        ]
        for thread in posters:
            thread.start()
        for thread in posters:
            thread.join(120)
        sender.join(120)

    assert statuses == {200: DELIVERIES}
    assert during_broadcast >= DELIVERIES // 4, "the webhook load must overlap the broadcast"
    assert sorted(dispatched) == sorted(mid for _, _, mid in deliveries), "no event lost"
    for number in range(DELIVERIES):
        subscriber = store.get(ds.PAGE_ID, f"w{number:06d}")
        assert subscriber is not None
        assert subscriber.last_interaction_at == ds.NOW - timedelta(minutes=5, milliseconds=number)
    assert store.count(ds.PAGE_ID) == BROADCAST_AUDIENCE + DELIVERIES
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems == [], [r.getMessage() for r in problems]
    (report,) = reports
    assert report.failed == {}
    assert report.ambiguous == 0
    assert report.total == report.audience >= BROADCAST_AUDIENCE
    counts = fake.delivery_counts()
    assert set(counts.values()) == {1}
    assert set(ds.psids(BROADCAST_AUDIENCE)) <= set(counts)
