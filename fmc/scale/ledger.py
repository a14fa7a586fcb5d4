"""The shard ledger: one row per shard job, in the journal's PostgreSQL, and its sweeper.

An engine whose queue lives elsewhere (Celery on Redis or RabbitMQ) cannot
record a broadcast and publish its shard jobs in one transaction. The ledger
closes that gap, as a transactional outbox does:

1. :func:`record_distributed` records the broadcast's parts and one ledger row
   per shard **in one transaction**;
2. the engine publishes the shards, and :func:`mark_published` notes it;
3. a shard job takes its Page's lock, beats its row while it runs
   (:func:`run_shard_job`) and marks it ``done`` (or ``paused``) at the end;
4. :func:`sweep_shards` publishes again the rows that were never published
   (a crash between the commit and the publish) and those whose job stopped
   beating (its worker died), so no shard is lost.

Publishing a shard twice is safe: a second job waits for the Page's lock and
then finds nobody left to send to (the journal's compare-and-set claims decide
who sends to whom). Every time is the database's ``now()``, so the clocks of
the hosts do not matter.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import attrs

from fmc.errors import ConfigurationError
from fmc.scale.run import RATE_WINDOW, PageOpener, begin_distributed, run_shard
from fmc.scale.shards import ShardSpec
from fmc.store._dialect import POSTGRES
from fmc.store._journal_sql import SQLJournal

if TYPE_CHECKING:
    import psycopg

    from fmc.models import Message
    from fmc.policy import Purpose

__all__ = [
    "JobOutcome",
    "ShardJob",
    "install_ledger",
    "mark_published",
    "record_distributed",
    "run_shard_job",
    "sweep_shards",
]

logger = logging.getLogger(__name__)

#: What :func:`run_shard_job` did: sent (``done``), stopped on a Page problem
#: (``paused``), found nothing to do (``skipped``), found the Page's lock taken
#: (``busy``), or left subscribers that other runs still hold (``unfinished``).
JobOutcome = Literal["done", "paused", "skipped", "busy", "unfinished"]

#: The first key of the advisory locks on Pages (an arbitrary constant, "fmcP").
_PAGE_LOCK = 0x666D6350
_SCHEMA_LOCK = 0x666D634C

_DDL = """
CREATE TABLE IF NOT EXISTS fmc_shard_jobs (
    broadcast_id text NOT NULL,
    page_id text NOT NULL,
    shard_index integer NOT NULL,
    shard_count integer NOT NULL,
    options jsonb NOT NULL,
    state text NOT NULL CHECK (state IN ('queued', 'done', 'paused')),
    recorded_at timestamptz NOT NULL,
    published_at timestamptz,
    beat_at timestamptz,
    publishes integer NOT NULL DEFAULT 0,
    PRIMARY KEY (broadcast_id, page_id, shard_index, shard_count)
);
CREATE INDEX IF NOT EXISTS fmc_shard_jobs_queued ON fmc_shard_jobs (recorded_at)
    WHERE state = 'queued'
"""

_KEY = "broadcast_id = %s AND page_id = %s AND shard_index = %s AND shard_count = %s"


@attrs.frozen
class ShardJob:
    """One shard job as the engine carries it: no secret, only ids and options.

    Attributes:
        broadcast_id: The distributed broadcast.
        shard: Which shard.
        options: How to run it: ``lease_seconds``, ``batch_size``, ``concurrency``.
    """

    broadcast_id: str
    shard: ShardSpec
    options: Mapping[str, Any] = attrs.field(factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """The job as JSON-ready keyword arguments of a task."""
        return {
            "broadcast_id": self.broadcast_id,
            "shard": self.shard.to_payload(),
            "options": dict(self.options),
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> ShardJob:
        """The job described by :meth:`to_payload`'s data.

        Raises:
            ConfigurationError: The data is not a shard job.
        """
        if not isinstance(data.get("broadcast_id"), str) or not isinstance(
            data.get("options", {}), Mapping
        ):
            raise ConfigurationError("not a shard job; expected broadcast_id, shard and options")
        return cls(data["broadcast_id"], ShardSpec.from_payload(data["shard"]), data["options"])

    def _key(self) -> tuple[str, str, int, int]:
        return (self.broadcast_id, self.shard.page_id, self.shard.index, self.shard.count)


class _TransactionJournal(SQLJournal):
    """The journal's SQL on one open connection, inside its caller's transaction."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._init_journal(
            POSTGRES, write=lambda _what, op: op(conn), read=lambda _what, op: op(conn)
        )


@contextmanager
def connect(dsn: str, schema: str | None = None) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection with ``schema`` first on the search path."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        if schema:
            conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema)))
        yield conn


@contextmanager
def installing(dsn: str, schema: str | None, lock: int) -> Iterator[psycopg.Connection[Any]]:
    """Migrate fmc's own tables, then a transaction holding the advisory lock ``lock``.

    The lock serializes the installs of concurrent workers: inside the block,
    check what exists and create what is missing.
    """
    from fmc.store.postgres import PostgresStore

    PostgresStore(dsn, schema=schema).close()  # migrates fmc's own tables
    with connect(dsn, schema) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
        yield conn


def install_ledger(dsn: str, *, schema: str | None = None) -> None:
    """Create fmc's tables and the ledger in the database (or ``schema``), if missing."""
    with installing(dsn, schema, _SCHEMA_LOCK) as conn:
        for statement in _DDL.split(";"):
            conn.execute(statement)


def record_distributed(
    dsn: str,
    broadcast_id: str,
    page_ids: Sequence[str],
    message: Message,
    purpose: Purpose,
    *,
    schema: str | None = None,
    shards_per_page: int = 1,
    options: Mapping[str, Any] | None = None,
) -> list[ShardJob]:
    """Record a distributed broadcast and its shard jobs (unpublished), in one transaction.

    Recording the same broadcast again queues every shard again (to resume
    after a pause, or after a broker lost its messages).

    Raises:
        ConfigurationError: The broadcast exists with another message or
            purpose, or the Pages or shard count are invalid.
    """
    install_ledger(dsn, schema=schema)
    opts = dict(options or {})
    with connect(dsn, schema) as conn, conn.transaction():
        shards = begin_distributed(
            _TransactionJournal(conn),
            broadcast_id,
            page_ids,
            message,
            purpose,
            shards_per_page=shards_per_page,
        )
        jobs = [ShardJob(broadcast_id, shard, opts) for shard in shards]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO fmc_shard_jobs (broadcast_id, page_id, shard_index, shard_count, "
                "options, state, recorded_at) VALUES (%s, %s, %s, %s, %s::jsonb, 'queued', now()) "
                "ON CONFLICT (broadcast_id, page_id, shard_index, shard_count) DO UPDATE SET "
                "options = EXCLUDED.options, state = 'queued', recorded_at = now(), "
                "published_at = NULL, beat_at = NULL",
                [(*job._key(), json.dumps(opts)) for job in jobs],
            )
    return jobs


def mark_published(dsn: str, jobs: Sequence[ShardJob], *, schema: str | None = None) -> None:
    """Note that ``jobs`` were handed to the engine's queue."""
    with connect(dsn, schema) as conn, conn.cursor() as cur:
        cur.executemany(
            f"UPDATE fmc_shard_jobs SET published_at = now(), publishes = publishes + 1 "  # noqa: S608
            f"WHERE {_KEY}",
            [job._key() for job in jobs],
        )


def sweep_shards(
    dsn: str,
    publish: Callable[[ShardJob], None],
    *,
    schema: str | None = None,
    unpublished_after: timedelta = timedelta(seconds=30),
    stale_after: timedelta = timedelta(seconds=30),
) -> list[ShardJob]:
    """Publish again the queued shard jobs that no live job is running.

    A row is due when it was recorded ``unpublished_after`` ago and never
    published (the enqueuer crashed between its commit and its publish), or
    when its job last beat ``stale_after`` ago (its worker died). Several
    sweepers may run at once: each due row is locked (``SKIP LOCKED``) by
    the sweeper that publishes it. A shard published twice sends nothing
    twice.

    Args:
        dsn: The journal's PostgreSQL.
        publish: Hands one job to the engine's queue.
        schema: The PostgreSQL schema.
        unpublished_after: How long an enqueuer may take from its commit to its publish.
        stale_after: How long a running job may go without beating its row.

    Returns:
        The jobs published again.
    """
    with connect(dsn, schema) as conn, conn.transaction():
        rows = conn.execute(
            "SELECT broadcast_id, page_id, shard_index, shard_count, options "
            "FROM fmc_shard_jobs WHERE state = 'queued' AND ("
            "(published_at IS NULL AND recorded_at < now() - make_interval(secs => %s)) OR "
            "(beat_at < now() - make_interval(secs => %s))) "
            "ORDER BY recorded_at FOR UPDATE SKIP LOCKED",
            (unpublished_after.total_seconds(), stale_after.total_seconds()),
        ).fetchall()
        jobs = [ShardJob(r[0], ShardSpec(r[1], r[2], r[3]), r[4]) for r in rows]
        for job in jobs:
            publish(job)
            logger.warning("shard %s of %s published again", job.shard.key, job.broadcast_id)
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE fmc_shard_jobs SET published_at = now(), beat_at = NULL, "  # noqa: S608
                f"publishes = publishes + 1 WHERE {_KEY}",
                [job._key() for job in jobs],
            )
    return jobs


def _state(conn: psycopg.Connection[Any], job: ShardJob) -> str | None:
    row = conn.execute(
        f"SELECT state FROM fmc_shard_jobs WHERE {_KEY}",  # noqa: S608
        job._key(),
    ).fetchone()
    return None if row is None else str(row[0])


def _set(conn: psycopg.Connection[Any], job: ShardJob, assignments: str) -> None:
    conn.execute(f"UPDATE fmc_shard_jobs SET {assignments} WHERE {_KEY}", job._key())  # noqa: S608


def _beat_until(
    stop: threading.Event, conn: psycopg.Connection[Any], job: ShardJob, every: float
) -> None:
    while not stop.wait(every):
        try:
            _set(conn, job, "beat_at = now()")
        except Exception:  # a database hiccup must not stop the shard; the next beat retries
            logger.exception("could not beat shard %s", job.shard.key)


def run_shard_job(
    dsn: str,
    job: ShardJob,
    open_page: PageOpener,
    *,
    schema: str | None = None,
    beat_every: float = 1.0,
    stop: threading.Event | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> JobOutcome:
    """Run one ledger shard job: once per Page at a time, beating its row, then settle it.

    The job holds a PostgreSQL advisory lock on its Page while it runs (and
    for :data:`~fmc.scale.run.RATE_WINDOW` after its last send), so one shard
    of a Page sends at a time across every worker and host, within the Page's
    rate limit. The lock goes with the job's connection, so a killed worker's
    lock is released when PostgreSQL sees the connection close.

    Returns:
        What happened (see :data:`JobOutcome`). The engine should run a
        ``busy`` or ``unfinished`` job again a little later.
    """
    with connect(dsn, schema) as conn:
        if _state(conn, job) != "queued":
            return "skipped"
        locked = conn.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (_PAGE_LOCK, job.shard.page_id)
        ).fetchone()
        if locked is None or not locked[0]:
            return "busy"
        try:
            if _state(conn, job) != "queued":  # finished while we waited for the lock
                return "skipped"
            _set(conn, job, "beat_at = now()")
            beating = threading.Event()
            beater = threading.Thread(
                target=_beat_until, args=(beating, conn, job, beat_every), daemon=True
            )
            beater.start()
            try:
                result = run_shard(
                    job.broadcast_id,
                    job.shard,
                    open_page,
                    lease=timedelta(seconds=float(job.options.get("lease_seconds", 30.0))),
                    batch_size=job.options.get("batch_size"),
                    concurrency=job.options.get("concurrency"),
                    stop=stop,
                )
                if result.sent:
                    sleep(RATE_WINDOW)
            finally:
                beating.set()
                beater.join()
            logger.info("shard %s of %s: %d sent", job.shard.key, job.broadcast_id, result.sent)
            if result.paused is not None:
                _set(conn, job, "state = 'paused', beat_at = NULL")
                return "paused"
            if result.elsewhere or (stop is not None and stop.is_set()):
                # The beat is left to go stale: should the engine's retry be
                # lost, the sweeper publishes the shard again.
                return "unfinished"
            _set(conn, job, "state = 'done', beat_at = NULL")
            return "done"
        finally:
            conn.execute(
                "SELECT pg_advisory_unlock(%s, hashtext(%s))", (_PAGE_LOCK, job.shard.page_id)
            )
