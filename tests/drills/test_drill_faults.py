"""Drill: a 10,000-subscriber broadcast through a Graph API that fails 20 % of the time.

Every reachable subscriber gets the message exactly once by the fake's own
record, everyone Meta reports unavailable (551) is marked so, the report adds
up to the audience, and sends whose retries ran out are finished by resuming.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import drill_support as ds
import pytest

import fmc
from fmc.testing import DEFAULT_BASE_URL, FakeGraphAPI, Fault

AUDIENCE = 10_000
_RETRYABLE_KINDS = {"RateLimitError", "TransientError", "NetworkError"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[fmc.SQLiteStore]:
    with fmc.SQLiteStore(tmp_path / "drill.db") as sqlite:
        yield sqlite


def faulty_fake(unavailable: list[str]) -> FakeGraphAPI:
    """About 20 % of sends fail: 551 for 1 % of people, then transient, 5xx and 613."""
    return FakeGraphAPI(
        access_token=ds.PAGE_TOKEN,
        app_secret=ds.APP_SECRET,
        seed=7,
        faults=[
            Fault.unavailable(unavailable),
            Fault.transient(code=2, ratio=0.05),
            Fault.transient(code=1200, ratio=0.05),
            Fault.server_error(status=502, ratio=0.04),
            Fault.rate_limit(code=613, ratio=0.06),
        ],
    )


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [None, 50], ids=["one-call-per-send", "graph-batches"])
def test_every_reachable_subscriber_gets_the_news_exactly_once(
    store: fmc.SQLiteStore, batch_size: int | None
) -> None:
    """20 % faults: exactly-once by the fake's record, 551s marked, resumes finish the rest."""
    everyone = ds.psids(AUDIENCE)
    unavailable = everyone[::100]
    reachable = sorted(set(everyone) - set(unavailable))
    ds.register(store, everyone)
    fake = faulty_fake(unavailable)
    # Two attempts only, so that retries run out for a few hundred sends.
    with fake.mock(), ds.client(DEFAULT_BASE_URL, attempts=2) as client:
        channel = ds.channel(client, store)
        report = channel.broadcast(
            fmc.Text("drill"), ds.NEWS, broadcast_id="faults", batch_size=batch_size
        )

        assert report.audience == AUDIENCE
        assert report.total == AUDIENCE
        assert report.ambiguous == 0
        assert report.failed["RecipientUnavailableError"] == len(unavailable)
        assert report.marked_unavailable == len(unavailable)
        retryable = sum(n for kind, n in report.failed.items() if kind in _RETRYABLE_KINDS)
        assert retryable > 0, "the drill must make retries run out for some sends"
        assert report.sent + retryable == len(reachable)
        assert fake.faults.injected["transient"] > 0
        assert fake.faults.injected["server_error"] > 0
        assert fake.faults.injected["rate_limit"] > 0

        resumes = 0
        while retryable:
            resumes += 1
            assert resumes <= 8, "resuming must finish the retryable sends"
            again = channel.broadcast(
                fmc.Text("drill"), ds.NEWS, broadcast_id="faults", batch_size=batch_size
            )
            assert again.total == again.audience == AUDIENCE
            assert again.ambiguous == 0
            assert "RecipientUnavailableError" not in again.failed
            new_retryable = sum(n for kind, n in again.failed.items() if kind in _RETRYABLE_KINDS)
            assert again.sent + new_retryable == retryable
            retryable = new_retryable

    counts = fake.delivery_counts()
    assert sorted(counts) == reachable
    assert set(counts.values()) == {1}
    for psid in unavailable:
        subscriber = store.get(ds.PAGE_ID, psid)
        assert subscriber is not None
        assert subscriber.status is fmc.SubscriberStatus.UNAVAILABLE
    journal = store.journal_counts("faults")
    assert journal[fmc.JournalState.SENT] == len(reachable)
    assert journal[fmc.JournalState.FAILED] == len(unavailable)
    assert journal[fmc.JournalState.RETRYABLE] == 0
    assert journal[fmc.JournalState.PENDING] == journal[fmc.JournalState.AMBIGUOUS] == 0
