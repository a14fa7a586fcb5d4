"""Drill: connections dropped after the request was sent, over a real loopback socket.

Whoever's send may or may not have reached Meta is reported ambiguous, never
resent by default, so nobody gets the message twice; the ambiguous count
matches the drops the fake injected; with ``at_least_once=True`` a resume
resends exactly those, and its report says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import drill_support as ds
import pytest

import fmc
from fmc.testing import FakeGraphAPI, FakeGraphServer, Fault

AUDIENCE = 3_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[fmc.SQLiteStore]:
    with fmc.SQLiteStore(tmp_path / "drill.db") as sqlite:
        yield sqlite


@pytest.fixture
def server() -> Iterator[FakeGraphServer]:
    fake = FakeGraphAPI(
        access_token=ds.PAGE_TOKEN,
        app_secret=ds.APP_SECRET,
        seed=11,
        faults=[Fault.drop(after=True, ratio=0.03), Fault.drop(after=False, ratio=0.01)],
    )
    with FakeGraphServer(fake) as running:
        yield running


@pytest.mark.slow
def test_dropped_sends_are_ambiguous_never_doubled_and_resent_only_when_asked(
    store: fmc.SQLiteStore, server: FakeGraphServer
) -> None:
    """Drops: 0 duplicates, ambiguous == drops, at_least_once resends each and reports it."""
    everyone = ds.psids(AUDIENCE)
    ds.register(store, everyone)
    fake = server.fake
    with ds.client(server.url, concurrency=16) as client:
        channel = ds.channel(client, store)
        report = channel.broadcast(fmc.Text("drill"), ds.NEWS, broadcast_id="drops")

        drops_after = fake.faults.injected["drop_after"]
        drops_before = fake.faults.injected["drop_before"]
        assert drops_after > 0
        assert drops_before > 0
        # Over a socket a reset before or after Meta acted looks the same: both ambiguous.
        assert report.ambiguous == drops_after + drops_before
        assert report.sent + report.ambiguous == AUDIENCE
        assert report.total == report.audience == AUDIENCE
        counts = fake.delivery_counts()
        assert set(counts.values()) == {1}, "nobody gets the message twice"
        ambiguous = {
            e.psid for e in store.journal_entries("drops", states=[fmc.JournalState.AMBIGUOUS])
        }
        assert len(ambiguous) == report.ambiguous
        reached_anyway = {psid for psid in ambiguous if counts[psid] == 1}
        assert len(reached_anyway) == drops_after

        again = channel.broadcast(fmc.Text("drill"), ds.NEWS, broadcast_id="drops")
        assert again.sent == 0
        assert again.ambiguous == report.ambiguous, "a plain resume reports, never resends"
        assert again.already_sent == report.sent
        assert fake.delivery_counts() == counts

        fake.faults.clear()
        resent = channel.broadcast(
            fmc.Text("drill"), ds.NEWS, broadcast_id="drops", at_least_once=True
        )
        assert resent.sent == resent.resent_ambiguous == len(ambiguous)
        assert resent.ambiguous == 0
        assert resent.already_sent == report.sent
        assert "resent after an ambiguous earlier send" in resent.summary()

    final = fake.delivery_counts()
    assert sorted(final) == everyone, "at least once: everyone reached"
    assert {psid for psid, n in final.items() if n == 2} == reached_anyway
    assert set(final.values()) <= {1, 2}
    journal = store.journal_counts("drops")
    assert journal[fmc.JournalState.SENT] == AUDIENCE
