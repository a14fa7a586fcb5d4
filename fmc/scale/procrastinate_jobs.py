"""Shard jobs on Procrastinate: jobs in the same PostgreSQL as the journal.

Needs the ``procrastinate`` extra (``pip install 'fmc-messenger[procrastinate]'``).

* :func:`enqueue_distributed` records a broadcast's parts and defers its shard
  jobs **in one transaction**: either the broadcast and all its jobs exist, or
  none of them (no lost or phantom shards).
* Every shard job of a Page carries the Procrastinate ``lock`` of that Page, so
  one shard of a Page runs at a time across all workers and machines: the
  Page's rate limit, applied by that worker's client, holds for the whole
  fleet. Different Pages run in parallel.
* :func:`run_worker` runs a worker, with a sweeper that hands the jobs of
  workers whose heartbeat stopped (killed, or their machine lost) back to the
  queue; :func:`fmc.scale.run_shard` makes the retry safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import procrastinate

from fmc.channel.control import DEFAULT_LEASE
from fmc.errors import ConfigurationError, FMCError
from fmc.scale.ledger import _TransactionJournal, connect, installing
from fmc.scale.run import RATE_WINDOW, PageOpener, begin_distributed, run_shard
from fmc.scale.shards import ShardSpec

if TYPE_CHECKING:
    from fmc.models import Message
    from fmc.policy import Purpose

__all__ = [
    "RATE_WINDOW",
    "SHARD_TASK",
    "ShardUnfinishedError",
    "enqueue_distributed",
    "install_schema",
    "procrastinate_app",
    "retry_stalled_jobs",
    "run_worker",
]

logger = logging.getLogger(__name__)

#: The Procrastinate task name of a shard job.
SHARD_TASK = "fmc.run_shard"
#: Serializes schema installs of concurrent workers (an arbitrary constant).
_SCHEMA_LOCK = 0x666D6353
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class ShardUnfinishedError(FMCError):
    """A shard job ended with subscribers still claimed by other runs; the engine retries it."""


def install_schema(dsn: str, *, schema: str | None = None) -> bool:
    """Create fmc's tables and Procrastinate's in the database (or ``schema``), if missing.

    Safe to call from several workers at once. Returns whether Procrastinate's
    schema was installed by this call.
    """
    with installing(dsn, schema, _SCHEMA_LOCK) as conn:
        where = schema or "public"
        row = conn.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'procrastinate_jobs'",
            (where,),
        ).fetchone()
        if row is not None:
            return False
        conn.execute(procrastinate.schema.SchemaManager.get_schema())
        return True


def enqueue_distributed(
    dsn: str,
    broadcast_id: str,
    page_ids: Sequence[str],
    message: Message,
    purpose: Purpose,
    *,
    schema: str | None = None,
    shards_per_page: int = 1,
    queue: str = "fmc",
    lease: timedelta = DEFAULT_LEASE,
    batch_size: int | None = None,
    concurrency: int | None = None,
) -> list[ShardSpec]:
    """Record a distributed broadcast and defer its shard jobs, in one transaction.

    Enqueueing the same broadcast again (same message and purpose) defers its
    shards again: use it to resume after a pause; the journal keeps anyone
    from getting the message twice.

    Raises:
        ConfigurationError: The broadcast exists with another message or
            purpose, or the Pages or shard count are invalid.
    """
    install_schema(dsn, schema=schema)
    with connect(dsn, schema) as conn, conn.transaction():
        shards = begin_distributed(
            _TransactionJournal(conn),
            broadcast_id,
            page_ids,
            message,
            purpose,
            shards_per_page=shards_per_page,
        )
        for shard in shards:
            args = {
                "broadcast_id": broadcast_id,
                "shard": shard.to_payload(),
                "lease_seconds": lease.total_seconds(),
                "batch_size": batch_size,
                "concurrency": concurrency,
            }
            conn.execute(
                "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, 0, %s, NULL, %s::jsonb, "
                "NULL)::procrastinate_job_to_defer_v1])",
                (queue, SHARD_TASK, f"fmc-page-{shard.page_id}", json.dumps(args)),
            )
    return shards


def procrastinate_app(
    dsn: str,
    open_page: PageOpener,
    *,
    schema: str | None = None,
    queue: str = "fmc",
    max_attempts: int = 20,
) -> procrastinate.App:
    """A Procrastinate app whose ``fmc.run_shard`` task runs shards with ``open_page``.

    Args:
        dsn: The PostgreSQL database of the journal and the jobs.
        open_page: Builds a Page's client, store and policy from this worker's
            configuration.
        schema: The PostgreSQL schema (put first on the search path).
        queue: The queue shard jobs go to.
        max_attempts: How often a failing shard job is tried.
    """
    if schema is not None and not _IDENTIFIER.match(schema):
        raise ConfigurationError(f"schema must be a plain SQL identifier, got {schema!r}")
    options = {"options": f"-c search_path={schema},public"} if schema else {}
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn, kwargs=options))

    @app.task(
        name=SHARD_TASK,
        queue=queue,
        retry=procrastinate.RetryStrategy(max_attempts=max_attempts, wait=1),
    )
    def shard_job(
        broadcast_id: str,
        shard: dict[str, Any],
        lease_seconds: float,
        batch_size: int | None = None,
        concurrency: int | None = None,
    ) -> None:
        spec = ShardSpec.from_payload(shard)
        result = run_shard(
            broadcast_id,
            spec,
            open_page,
            lease=timedelta(seconds=lease_seconds),
            batch_size=batch_size,
            concurrency=concurrency,
        )
        logger.info("shard %s of %s: %d sent", spec.key, broadcast_id, result.sent)
        if result.sent:
            time.sleep(RATE_WINDOW)
        if result.paused is None and result.elsewhere:
            raise ShardUnfinishedError(
                f"shard {spec.key} of {broadcast_id}: {result.elsewhere} subscribers still "
                "claimed by other runs"
            )

    return app


async def retry_stalled_jobs(app: procrastinate.App, *, stalled_after: float) -> int:
    """Put back the running jobs of workers without a heartbeat for ``stalled_after`` s."""
    retried = 0
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        # Another worker's sweeper may have retried it first.
        with contextlib.suppress(Exception):
            await app.job_manager.retry_job(job)
            retried += 1
            logger.warning("retrying job %s of a worker that stopped beating", job.id)
    return retried


async def _sweep(app: procrastinate.App, stalled_after: float) -> None:
    while True:
        await asyncio.sleep(stalled_after / 2)
        try:
            await retry_stalled_jobs(app, stalled_after=stalled_after)
        except Exception:  # a database hiccup must not stop the worker
            logger.exception("could not look for stalled jobs")


async def _work(
    app: procrastinate.App, queues: Sequence[str], concurrency: int, heartbeat: float
) -> None:
    async with app.open_async():
        sweeper = asyncio.create_task(_sweep(app, heartbeat * 3))
        try:
            await app.run_worker_async(
                queues=list(queues),
                concurrency=concurrency,
                update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=heartbeat * 3,
                fetch_job_polling_interval=min(heartbeat, 5.0),
            )
        finally:
            sweeper.cancel()


def run_worker(
    app: procrastinate.App,
    *,
    queues: Sequence[str] = ("fmc",),
    concurrency: int = 1,
    heartbeat: float = 10.0,
) -> None:
    """Run a Procrastinate worker until SIGINT or SIGTERM.

    Args:
        app: From :func:`procrastinate_app`.
        queues: The queues to take jobs from.
        concurrency: Shard jobs at once in this process.
        heartbeat: Seconds between the worker's heartbeats; a worker silent
            for three of them is presumed dead and its jobs are retried.
    """
    asyncio.run(_work(app, queues, concurrency, heartbeat))
