"""Drills: distributed broadcasts on Celery with real ``fmc worker --engine celery`` processes.

Against the real PostgreSQL and Redis that ``.ci/run`` starts and one loopback
fake Graph API per Page, counting at the fakes:

* 3 Celery workers, 50,000 subscribers over 5 Pages (``FMC_DRILL_SCALE_SUBSCRIBERS``
  scales it down), one worker SIGKILLed mid-run, the rest finish (the
  ledger's sweeper in the surviving workers publishes the dead worker's
  shard again): every subscriber exactly once, ambiguous only where the
  request had been handed to HTTP, and no Page's busiest second at its fake
  above the Page's rate limit;
* every shard task delivered twice sends nothing twice.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import scale_support as ss

import fmc
from fmc.scale import broadcast_status, part_id
from fmc.scale.ledger import connect

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

RATE = 500.0
BATCH = 10
IN_FLIGHT = 4


@pytest.fixture
def no_gc_pauses() -> Iterator[None]:
    """No garbage-collector passes in this process while the fakes record (see scale_support)."""
    with ss.no_gc_pauses():
        yield


@pytest.fixture
def store(postgres_dsn: str, postgres_schema: str) -> Iterator[fmc.PostgresStore]:
    """The drill's journal and subscribers, in a fresh schema."""
    with fmc.PostgresStore(postgres_dsn, schema=postgres_schema) as opened:
        yield opened


class Fleet:
    """Celery ``fmc worker`` processes and ``fmc broadcast --distributed`` runs of one drill."""

    def __init__(self, dsn: str, schema: str, broker: str, logs: Path) -> None:
        self.base = ("--postgres", dsn, "--schema", schema, "--engine", "celery")
        self.base += ("--broker", broker, "--queue", f"fmc-drill-{uuid.uuid4().hex[:10]}")
        self.logs = logs
        self.workers: list[subprocess.Popen[str]] = []

    def enqueue(self, pages: list[str], env: dict[str, str], *extra: str) -> None:
        """``fmc broadcast --distributed --engine celery``; it must succeed."""
        process = ss.fmc_command(
            "broadcast", "--distributed", "--text", "drill", "--purpose", "news",
            "--pages", ",".join(pages), "--batch-size", str(BATCH),
            "--concurrency", str(IN_FLIGHT), "--lease", "2", *self.base, *extra,
            env=env,
        )  # fmt: skip
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "shard jobs" in out

    def start(self, env: dict[str, str], count: int) -> None:
        """Start ``count`` workers sweeping every second; their logs go to files."""
        for _ in range(count):
            log = (self.logs / f"worker-{len(self.workers)}.log").open("w")
            self.workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "fmc.cli", "worker", *self.base, "--heartbeat", "1"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )

    def stop(self) -> str:
        """SIGTERM the workers still running, wait for them, and return their logs."""
        for worker in self.workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in self.workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        return "\n".join(p.read_text() for p in sorted(self.logs.glob("worker-*.log")))


def republished(dsn: str, schema: str) -> int:
    """The most times any shard was published."""
    with connect(dsn, schema) as conn:
        row = conn.execute("SELECT coalesce(max(publishes), 0) FROM fmc_shard_jobs").fetchone()
    assert row is not None
    return int(row[0])


# The suite's 120 s per test is too short on a busy shared machine; the waits
# inside bound each phase (120 s to the kill, 300 s to the end).
@pytest.mark.timeout(600)
@pytest.mark.usefixtures("no_gc_pauses")
def test_three_celery_workers_one_killed_reach_every_subscriber_of_five_pages_once(
    store: fmc.PostgresStore,
    postgres_dsn: str,
    postgres_schema: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    pages = ss.page_ids(5)
    per_page = ss.SUBSCRIBERS // len(pages)
    audience = {page: [f"{page[-1]}y{i:06d}" for i in range(per_page)] for page in pages}
    for page, psids in audience.items():
        ss.register(store, page, psids)
    fleet = Fleet(postgres_dsn, postgres_schema, redis_url, tmp_path)
    with ss.fakes(pages) as servers:
        env = ss.environment(servers, RATE)
        fleet.start(env, 3)
        try:
            fleet.enqueue(pages, env, "--resume", "big", "--shards-per-page", "2")
            sent = lambda: broadcast_status(store, "big").count(fmc.JournalState.SENT)  # noqa: E731
            ss.wait_for(lambda: sent() >= ss.SUBSCRIBERS // 5, timeout=120, what="sends")
            fleet.workers[0].send_signal(signal.SIGKILL)
            done = lambda: ss.settled(store, "big", ss.SUBSCRIBERS)  # noqa: E731
            ss.wait_for(done, timeout=300, what="the end")
        finally:
            logs = fleet.stop()
        assert republished(postgres_dsn, postgres_schema) >= 2, "the sweeper published again"
        for page, server in servers.items():
            counts = server.fake.delivery_counts()
            ambiguous = {
                e.psid
                for e in store.journal_entries(
                    part_id("big", page), states=[fmc.JournalState.AMBIGUOUS]
                )
            }
            assert set(counts.values()) <= {1}, "nobody gets the message twice"
            lost_in_flight = ambiguous - set(counts)
            assert len(lost_in_flight) <= IN_FLIGHT * BATCH, "ambiguous: sends that went out"
            assert set(counts) | ambiguous == set(audience[page]), "everyone else is reached"
            busiest = ss.busiest_second(server)
            print(f"Page {page}: busiest second {busiest} sends (limit {RATE:.0f})")
            assert busiest <= RATE, f"Page {page} above its rate: {logs[-4000:]}"
    assert ss.token(pages[0]) not in logs, "no Page token in a worker's log"


def test_a_celery_task_delivered_twice_sends_nothing_twice(
    store: fmc.PostgresStore,
    postgres_dsn: str,
    postgres_schema: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    pages = ss.page_ids(2)
    psids = {page: [f"{page[-1]}d{i:05d}" for i in range(1_000)] for page in pages}
    for page, people in psids.items():
        ss.register(store, page, people)
    fleet = Fleet(postgres_dsn, postgres_schema, redis_url, tmp_path)
    with ss.fakes(pages) as servers:
        env = ss.environment(servers, RATE)
        # The same shard tasks, published twice: the broker delivers each shard twice.
        fleet.enqueue(pages, env, "--resume", "dup", "--shards-per-page", "2")
        fleet.enqueue(pages, env, "--resume", "dup", "--shards-per-page", "2")
        fleet.start(env, 2)
        try:
            ss.wait_for(lambda: ss.settled(store, "dup", 2_000), timeout=120, what="the end")
        finally:
            fleet.stop()
        for page, server in servers.items():
            counts = server.fake.delivery_counts()
            assert sorted(counts) == psids[page]
            assert set(counts.values()) == {1}
