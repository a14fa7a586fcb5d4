"""Shard jobs on Celery: at-least-once settings, and the task running shards once (real Redis)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from shard_support import register

import fmc
from fmc.scale import broadcast_status

celery_worker = pytest.importorskip("celery.contrib.testing.worker")

from fmc.scale.celery_tasks import (  # noqa: E402 - needs celery, checked above
    SHARD_TASK,
    add_shard_task,
    celery_app,
    enqueue_distributed,
    publish,
    sweep,
)
from fmc.scale.ledger import record_distributed  # noqa: E402
from fmc.testing import FakeGraphAPI  # noqa: E402

PSIDS = [f"c{i:05d}" for i in range(150)]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("task_acks_late", True),
        ("task_reject_on_worker_lost", True),
        ("worker_prefetch_multiplier", 1),
        ("broker_transport_options", {"visibility_timeout": 7200.0}),
        ("task_default_queue", "fmc"),
        ("accept_content", ["json"]),
    ],
    ids=lambda v: str(v),
)
def test_the_app_is_configured_for_at_least_once_execution(setting: str, value: object) -> None:
    """Late acks, redelivery when a worker dies, one task at a time, JSON only."""
    assert celery_app("memory://").conf[setting] == value


@pytest.fixture
def app(redis_url: str) -> Any:
    """A Celery app on the test Redis, with a queue of its own (other tests share the server)."""
    return celery_app(redis_url, queue=f"fmc-test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def worker(app: Any, pg_opener: Any, postgres_dsn: str, postgres_schema: str) -> Iterator[Any]:
    """An in-process Celery worker (Celery's own test helper) running the shard task."""
    add_shard_task(app, postgres_dsn, pg_opener, schema=postgres_schema)
    with celery_worker.start_worker(
        app, pool="solo", perform_ping_check=False, queues=[app.conf.task_default_queue]
    ) as running:
        yield running


def settled(store: fmc.SubscriberStore, expected: int) -> bool:
    status = broadcast_status(store, "bc-c")
    return sum(page.settled for page in status.pages) >= expected


def wait(condition: Any, *, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.postgres
def test_the_task_reaches_every_subscriber_once(
    app: Any,
    worker: Any,
    fake_graph: FakeGraphAPI,
    pg_store: fmc.PostgresStore,
    postgres_dsn: str,
    postgres_schema: str,
) -> None:
    """enqueue_distributed publishes one task per shard; the worker sends each subscriber once."""
    register(pg_store, fake_graph.page_id, PSIDS)
    shards = enqueue_distributed(
        app,
        postgres_dsn,
        "bc-c",
        [fake_graph.page_id],
        fmc.Text("hello"),
        fmc.Purpose.NEWS,
        schema=postgres_schema,
        shards_per_page=3,
        lease=timedelta(seconds=1),
    )
    assert len(shards) == 3
    wait(lambda: settled(pg_store, len(PSIDS)))
    assert sorted(fake_graph.delivery_counts()) == PSIDS
    assert set(fake_graph.delivery_counts().values()) == {1}


@pytest.mark.postgres
def test_a_crash_before_the_publish_is_repaired_by_the_sweep(
    app: Any,
    worker: Any,
    fake_graph: FakeGraphAPI,
    pg_store: fmc.PostgresStore,
    postgres_dsn: str,
    postgres_schema: str,
) -> None:
    """Committed, never published: the sweep publishes the shards and they are sent once."""
    register(pg_store, fake_graph.page_id, PSIDS)
    record_distributed(
        postgres_dsn,
        "bc-c",
        [fake_graph.page_id],
        fmc.Text("hello"),
        fmc.Purpose.NEWS,
        schema=postgres_schema,
        shards_per_page=2,
        options={"lease_seconds": 1.0},
    )
    swept = sweep(app, postgres_dsn, schema=postgres_schema, unpublished_after=timedelta(0))
    assert len(swept) == 2
    wait(lambda: settled(pg_store, len(PSIDS)))
    assert set(fake_graph.delivery_counts().values()) == {1}
    assert len(fake_graph.delivery_counts()) == len(PSIDS)


@pytest.mark.postgres
def test_a_task_delivered_twice_sends_nothing_twice(
    app: Any,
    worker: Any,
    fake_graph: FakeGraphAPI,
    pg_store: fmc.PostgresStore,
    postgres_dsn: str,
    postgres_schema: str,
) -> None:
    """Every shard task published twice: each subscriber still gets the message once."""
    register(pg_store, fake_graph.page_id, PSIDS)
    jobs = record_distributed(
        postgres_dsn,
        "bc-c",
        [fake_graph.page_id],
        fmc.Text("hello"),
        fmc.Purpose.NEWS,
        schema=postgres_schema,
        shards_per_page=2,
        options={"lease_seconds": 1.0},
    )
    for job in jobs + jobs:
        publish(app, job)
    wait(lambda: settled(pg_store, len(PSIDS)))
    assert set(fake_graph.delivery_counts().values()) == {1}
    assert app.tasks[SHARD_TASK].name == SHARD_TASK


@pytest.mark.postgres
def test_a_task_that_raised_is_tried_again_not_dropped(
    app: Any,
    fake_graph: FakeGraphAPI,
    pg_opener: Any,
    pg_store: fmc.PostgresStore,
    postgres_dsn: str,
    postgres_schema: str,
) -> None:
    """A hiccup in the first try (late acks would drop it) is retried; everyone gets it once."""
    failures = [RuntimeError("the database went away for a moment")]

    def flaky(page_id: str) -> Any:
        if failures:
            raise failures.pop()
        return pg_opener(page_id)

    add_shard_task(app, postgres_dsn, flaky, schema=postgres_schema)
    register(pg_store, fake_graph.page_id, PSIDS)
    enqueue_distributed(
        app,
        postgres_dsn,
        "bc-c",
        [fake_graph.page_id],
        fmc.Text("hello"),
        fmc.Purpose.NEWS,
        schema=postgres_schema,
        lease=timedelta(seconds=1),
    )
    with celery_worker.start_worker(
        app, pool="solo", perform_ping_check=False, queues=[app.conf.task_default_queue]
    ):
        wait(lambda: settled(pg_store, len(PSIDS)))
    assert failures == []
    assert set(fake_graph.delivery_counts().values()) == {1}
    assert len(fake_graph.delivery_counts()) == len(PSIDS)
