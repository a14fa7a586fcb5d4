"""The shard ledger: a crash between commit and publish loses no shard; a shard twice sends once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from shard_support import register

import fmc
from fmc.errors import ConfigurationError
from fmc.scale import run_shard
from fmc.scale.ledger import (
    ShardJob,
    connect,
    mark_published,
    record_distributed,
    run_shard_job,
    sweep_shards,
)
from fmc.testing import FakeGraphAPI

pytestmark = pytest.mark.postgres

PSIDS = [f"p{i:05d}" for i in range(200)]
MINUTE = timedelta(minutes=1)


def record(dsn: str, schema: str, page_id: str, *, shards: int = 2) -> list[ShardJob]:
    return record_distributed(
        dsn,
        "bc-1",
        [page_id],
        fmc.Text("hello"),
        fmc.Purpose.NEWS,
        schema=schema,
        shards_per_page=shards,
        options={"lease_seconds": 1.0, "batch_size": None, "concurrency": 2},
    )


def sweep_now(dsn: str, schema: str, **kwargs: timedelta) -> list[ShardJob]:
    published: list[ShardJob] = []
    options = {"unpublished_after": timedelta(0), "stale_after": MINUTE, **kwargs}
    swept = sweep_shards(dsn, published.append, schema=schema, **options)
    assert swept == published
    return published


def no_wait(_seconds: float) -> None:
    return None


def test_a_crash_between_commit_and_publish_loses_no_shard(
    fake_graph: FakeGraphAPI,
    pg_store: fmc.PostgresStore,
    pg_opener: Any,
    postgres_dsn: str,
    postgres_schema: str,
) -> None:
    """Recorded but never published: the sweep publishes every shard, which then sends once."""
    register(pg_store, fake_graph.page_id, PSIDS)
    jobs = record(postgres_dsn, postgres_schema, fake_graph.page_id)
    swept = sweep_now(postgres_dsn, postgres_schema)
    assert sorted(j.shard.index for j in swept) == [j.shard.index for j in jobs]
    outcomes = [
        run_shard_job(postgres_dsn, j, pg_opener, schema=postgres_schema, sleep=no_wait)
        for j in swept
    ]
    assert outcomes == ["done", "done"]
    assert sorted(fake_graph.delivery_counts()) == PSIDS
    assert set(fake_graph.delivery_counts().values()) == {1}
    assert sweep_now(postgres_dsn, postgres_schema) == [], "done shards are never swept"


def test_a_sweep_leaves_a_row_its_enqueuer_is_still_publishing(
    fake_graph: FakeGraphAPI, postgres_dsn: str, postgres_schema: str
) -> None:
    """A row recorded moments ago is the enqueuer's to publish, not the sweeper's."""
    record(postgres_dsn, postgres_schema, fake_graph.page_id)
    assert sweep_now(postgres_dsn, postgres_schema, unpublished_after=MINUTE) == []


def test_a_published_shard_is_not_swept_while_it_waits_in_the_queue(
    fake_graph: FakeGraphAPI, postgres_dsn: str, postgres_schema: str
) -> None:
    """Published and not yet started: the broker has it, so the sweep leaves it."""
    jobs = record(postgres_dsn, postgres_schema, fake_graph.page_id)
    mark_published(postgres_dsn, jobs, schema=postgres_schema)
    assert sweep_now(postgres_dsn, postgres_schema) == []


def test_a_shard_whose_worker_stopped_beating_is_published_again_once(
    fake_graph: FakeGraphAPI, postgres_dsn: str, postgres_schema: str
) -> None:
    """A job that last beat long ago (its worker died) is swept, by one sweeper only."""
    jobs = record(postgres_dsn, postgres_schema, fake_graph.page_id)
    mark_published(postgres_dsn, jobs, schema=postgres_schema)
    with connect(postgres_dsn, postgres_schema) as conn:
        conn.execute(
            "UPDATE fmc_shard_jobs SET beat_at = now() - interval '5 minutes' WHERE shard_index = 1"
        )
    swept = sweep_now(postgres_dsn, postgres_schema)
    assert [j.shard.index for j in swept] == [1]
    assert sweep_now(postgres_dsn, postgres_schema) == [], "published again: not swept again"


def test_a_shard_published_again_while_it_runs_sends_nothing_twice(
    fake_graph: FakeGraphAPI,
    pg_store: fmc.PostgresStore,
    pg_opener: Any,
    postgres_dsn: str,
    postgres_schema: str,
) -> None:
    """The copy finds its Page busy, and once the first run is done, nobody left to send to."""
    register(pg_store, fake_graph.page_id, PSIDS)
    job = record(postgres_dsn, postgres_schema, fake_graph.page_id, shards=1)[0]
    fake_graph.latency = 0.01
    outcome: list[str] = []
    first = threading.Thread(
        target=lambda: outcome.append(
            run_shard_job(postgres_dsn, job, pg_opener, schema=postgres_schema, sleep=no_wait)
        )
    )
    first.start()
    try:
        while not fake_graph.delivery_counts():
            threading.Event().wait(0.01)
        copy = run_shard_job(postgres_dsn, job, pg_opener, schema=postgres_schema)
    finally:
        first.join()
    assert (copy, outcome) == ("busy", ["done"])
    # Recorded again (a resume) and run again: the journal has everyone already.
    again = record(postgres_dsn, postgres_schema, fake_graph.page_id, shards=1)[0]
    assert run_shard_job(postgres_dsn, again, pg_opener, schema=postgres_schema) == "done"
    assert set(fake_graph.delivery_counts().values()) == {1}
    assert sorted(fake_graph.delivery_counts()) == PSIDS


def test_two_runs_of_one_shard_at_once_send_nothing_twice(
    fake_graph: FakeGraphAPI,
    pg_store: fmc.PostgresStore,
    pg_opener: Any,
    postgres_dsn: str,
    postgres_schema: str,
) -> None:
    """Without any lock (a lost connection, say), the journal's claims still split the work."""
    register(pg_store, fake_graph.page_id, PSIDS)
    job = record(postgres_dsn, postgres_schema, fake_graph.page_id, shards=1)[0]
    fake_graph.latency = 0.002
    results: list[int] = []

    def run() -> None:
        result = run_shard("bc-1", job.shard, pg_opener, lease=timedelta(seconds=1))
        results.append(result.sent)

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert sum(results) == len(PSIDS)
    assert set(fake_graph.delivery_counts().values()) == {1}


def test_a_done_shard_delivered_again_is_skipped(
    fake_graph: FakeGraphAPI,
    pg_store: fmc.PostgresStore,
    pg_opener: Any,
    postgres_dsn: str,
    postgres_schema: str,
) -> None:
    """A late duplicate of a finished job does nothing at all."""
    register(pg_store, fake_graph.page_id, PSIDS[:10])
    job = record(postgres_dsn, postgres_schema, fake_graph.page_id, shards=1)[0]
    assert run_shard_job(postgres_dsn, job, pg_opener, schema=postgres_schema, sleep=no_wait) == (
        "done"
    )
    assert run_shard_job(postgres_dsn, job, pg_opener, schema=postgres_schema) == "skipped"
    assert len(fake_graph.delivery_counts()) == 10


def test_a_dead_token_pauses_the_shard_and_the_sweep_leaves_it(
    fake_graph: FakeGraphAPI,
    pg_store: fmc.PostgresStore,
    pg_opener: Any,
    postgres_dsn: str,
    postgres_schema: str,
) -> None:
    """A paused shard is not swept (it would fail again); recording it again resumes it."""
    register(pg_store, fake_graph.page_id, PSIDS[:10])
    job = record(postgres_dsn, postgres_schema, fake_graph.page_id, shards=1)[0]
    fake_graph.access_token = "EAAGanotherTokenTheClientDoesNotHave"
    assert run_shard_job(postgres_dsn, job, pg_opener, schema=postgres_schema) == "paused"
    assert sweep_now(postgres_dsn, postgres_schema, stale_after=timedelta(0)) == []
    fake_graph.access_token = None
    again = record(postgres_dsn, postgres_schema, fake_graph.page_id, shards=1)[0]
    assert run_shard_job(postgres_dsn, again, pg_opener, schema=postgres_schema) == "done"
    assert len(fake_graph.delivery_counts()) == 10


@pytest.mark.parametrize(
    "payload",
    [
        {"shard": {"page_id": "1", "index": 0, "count": 1}, "options": {}},
        {"broadcast_id": "b", "shard": {"page_id": "1"}, "options": {}},
        {"broadcast_id": "b", "shard": {"page_id": "1", "index": 0, "count": 1}, "options": 3},
    ],
    ids=["no broadcast id", "incomplete shard", "options not a mapping"],
)
def test_a_payload_that_is_not_a_shard_job_is_refused(payload: dict[str, Any]) -> None:
    """A malformed task payload is a ConfigurationError that says what a job holds."""
    with pytest.raises(ConfigurationError, match="shard"):
        ShardJob.from_payload(payload)


def test_a_job_payload_round_trips() -> None:
    """to_payload and from_payload agree."""
    job = ShardJob("bc-1", fmc.scale.ShardSpec("1234", 1, 3), {"batch_size": 50})
    assert ShardJob.from_payload(job.to_payload()) == job
