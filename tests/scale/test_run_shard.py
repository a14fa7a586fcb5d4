"""run_shard: shards reach everyone once; a shard run twice sends nothing twice."""

from __future__ import annotations

from typing import Any

import pytest
from shard_support import NOW, register

import fmc
from fmc.errors import ConfigurationError
from fmc.scale import begin_distributed, broadcast_status, run_shard
from fmc.testing import FakeGraphAPI

PSIDS = [f"p{i:05d}" for i in range(120)]


def begin(store: fmc.SubscriberStore, page_id: str, shards: int = 4) -> list[fmc.scale.ShardSpec]:
    return begin_distributed(
        store,
        "bc-1",
        [page_id],
        fmc.Text("hello"),
        fmc.Purpose.NEWS,
        shards_per_page=shards,
        at=NOW,
    )


def test_the_shards_together_reach_every_subscriber_exactly_once(
    fake_graph: FakeGraphAPI, store: fmc.SubscriberStore, opener: Any
) -> None:
    register(store, fake_graph.page_id, PSIDS)
    results = [run_shard("bc-1", s, opener) for s in begin(store, fake_graph.page_id)]
    counts = fake_graph.delivery_counts()
    assert sorted(counts) == PSIDS
    assert set(counts.values()) == {1}
    assert sum(r.sent for r in results) == len(PSIDS)
    assert all(r.sent > 0 for r in results), "the hash spreads subscribers over every shard"


def test_a_shard_run_twice_sends_nothing_twice(
    fake_graph: FakeGraphAPI, store: fmc.SubscriberStore, opener: Any
) -> None:
    register(store, fake_graph.page_id, PSIDS)
    shard = begin(store, fake_graph.page_id)[0]
    first = run_shard("bc-1", shard, opener)
    again = run_shard("bc-1", shard, opener)
    assert again.sent == 0
    assert again.reports[-1].already_sent == first.sent
    assert set(fake_graph.delivery_counts().values()) == {1}


def test_a_shard_of_a_broadcast_never_begun_is_refused(
    fake_graph: FakeGraphAPI, store: fmc.SubscriberStore, opener: Any
) -> None:
    shard = fmc.scale.ShardSpec(fake_graph.page_id, 0, 1)
    with pytest.raises(ConfigurationError, match="begin it"):
        run_shard("bc-never", shard, opener)
    assert fake_graph.delivery_counts() == {}


def test_beginning_again_with_another_message_is_refused(store: fmc.SubscriberStore) -> None:
    begin(store, "1234")
    with pytest.raises(ConfigurationError, match="another message or purpose"):
        begin_distributed(store, "bc-1", ["1234"], fmc.Text("other"), fmc.Purpose.NEWS)


def test_beginning_again_with_the_same_message_returns_the_same_shards(
    store: fmc.SubscriberStore,
) -> None:
    assert begin(store, "1234") == begin(store, "1234")


def test_status_sums_the_journal_over_every_page(
    fake_graph: FakeGraphAPI, store: fmc.SubscriberStore, opener: Any
) -> None:
    register(store, fake_graph.page_id, PSIDS)
    register(store, "777", ["q1", "q2"])
    begin_distributed(
        store, "bc-1", [fake_graph.page_id, "777"], fmc.Text("hello"), fmc.Purpose.NEWS, at=NOW
    )
    run_shard("bc-1", fmc.scale.ShardSpec(fake_graph.page_id, 0, 1), opener)
    status = broadcast_status(store, "bc-1")
    assert [p.page_id for p in status.pages] == sorted([fake_graph.page_id, "777"])
    assert status.count(fmc.JournalState.SENT) == len(PSIDS)
    assert status.subscribers == len(PSIDS) + 2
    assert status.live_runs == 0
    assert f"{len(PSIDS)}/{len(PSIDS)} settled" in status.summary()
    assert "0/2 settled" in status.summary()


def test_status_of_an_unknown_broadcast_names_the_problem(store: fmc.SubscriberStore) -> None:
    with pytest.raises(ConfigurationError, match="no distributed broadcast 'bc-x'"):
        broadcast_status(store, "bc-x")


def test_a_dead_token_pauses_only_that_shard_and_a_rerun_finishes_it(
    fake_graph: FakeGraphAPI, store: fmc.SubscriberStore, opener: Any
) -> None:
    register(store, fake_graph.page_id, PSIDS)
    shard = begin(store, fake_graph.page_id, shards=1)[0]
    fake_graph.access_token = "EAAGanotherTokenTheClientDoesNotHave"
    paused = run_shard("bc-1", shard, opener)
    assert paused.paused is not None
    assert paused.sent == 0
    fake_graph.access_token = None
    finished = run_shard("bc-1", shard, opener)
    assert finished.paused is None
    assert sorted(fake_graph.delivery_counts()) == PSIDS
    assert set(fake_graph.delivery_counts().values()) == {1}
