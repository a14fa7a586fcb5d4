"""Shard jobs on Celery: the same :func:`~fmc.scale.run_shard`, with at-least-once settings.

Needs the ``celery`` extra (``pip install 'fmc-messenger[celery]'``), a broker
(Redis or RabbitMQ) and the journal's PostgreSQL.

* :func:`celery_app` configures an app for at-least-once execution: a task
  is acknowledged only after it ran (``task_acks_late``), given back to the
  queue when its worker process dies (``task_reject_on_worker_lost``), and a
  worker takes one task at a time (``worker_prefetch_multiplier = 1``). On
  Redis, a task taken by a worker that vanished is delivered again only after
  the broker's ``visibility_timeout``; fmc's sweeper does not wait that long.
* :func:`enqueue_distributed` records the broadcast and its shard rows in the
  ledger (:mod:`fmc.scale.ledger`) in one transaction, then publishes the
  tasks. A crash between the two loses no shard: :func:`sweep` publishes
  the rows that were never published, and those whose worker stopped
  beating. :func:`run_worker` runs the sweeper in every worker.
* The task (:func:`add_shard_task`) takes its Page's lock in PostgreSQL, so
  one shard of a Page sends at a time across every worker, within the Page's
  rate limit; a task that finds the lock taken is retried a moment later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import celery  # type: ignore[import-untyped]

from fmc.channel.control import DEFAULT_LEASE
from fmc.errors import ConfigurationError
from fmc.scale.ledger import (
    ShardJob,
    mark_published,
    record_distributed,
    run_shard_job,
    sweep_shards,
)
from fmc.scale.run import PageOpener
from fmc.scale.shards import ShardSpec

if TYPE_CHECKING:
    from fmc.models import Message
    from fmc.policy import Purpose

__all__ = [
    "DEFAULT_VISIBILITY_TIMEOUT",
    "ERROR_DELAY_MAX",
    "ERROR_RETRIES",
    "RETRY_DELAY",
    "SHARD_TASK",
    "add_shard_task",
    "celery_app",
    "enqueue_distributed",
    "publish",
    "run_worker",
    "sweep",
]

logger = logging.getLogger(__name__)

#: The Celery task name of a shard job.
SHARD_TASK = "fmc.run_shard"
#: Seconds Redis waits before it delivers a task again whose worker never
#: acknowledged it. Longer than any shard runs (a shard still running when it
#: passes is delivered again: safe, as the copy waits for the Page's lock and
#: then sends nothing, but wasted).
DEFAULT_VISIBILITY_TIMEOUT = 7200.0
#: Seconds before a task that found its Page's lock taken, or subscribers
#: still held by another run, is tried again.
RETRY_DELAY = 1.0
#: A task that raised is tried again this many times, waiting twice as long
#: each time (up to ``ERROR_DELAY_MAX`` seconds); after that the sweeper
#: publishes it again once its beat is stale.
ERROR_RETRIES = 20
ERROR_DELAY_MAX = 60.0


def celery_app(
    broker: str, *, queue: str = "fmc", visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT
) -> Any:
    """A Celery app configured for at-least-once shard jobs, with no tasks yet.

    Args:
        broker: The broker URL (``redis://…`` or ``amqp://…``).
        queue: The queue shard jobs go to.
        visibility_timeout: See :data:`DEFAULT_VISIBILITY_TIMEOUT` (Redis and SQS only).

    Returns:
        A ``celery.Celery`` app (not the process's current app).
    """
    app = celery.Celery("fmc", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": visibility_timeout},
        broker_connection_retry_on_startup=True,
        task_default_queue=queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        worker_hijack_root_logger=False,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
    )
    return app


def publish(app: Any, job: ShardJob, *, countdown: float | None = None) -> None:
    """Hand one shard job to the broker (the payload holds ids and options only)."""
    app.send_task(
        SHARD_TASK,
        kwargs=job.to_payload(),
        queue=app.conf.task_default_queue,
        countdown=countdown,
    )


def add_shard_task(
    app: Any,
    dsn: str,
    open_page: PageOpener,
    *,
    schema: str | None = None,
    max_retries: int | None = None,
    stop: threading.Event | None = None,
) -> Any:
    """Register the ``fmc.run_shard`` task on ``app``, running :func:`~.ledger.run_shard_job`.

    Args:
        app: From :func:`celery_app`, or your own app configured the same way.
        dsn: The journal's PostgreSQL.
        open_page: Builds a Page's client, store and policy from this
            worker's own configuration.
        schema: The PostgreSQL schema.
        max_retries: How often a busy or unfinished job is tried again
            (``None``: until it is done; the sweeper is the safety net anyway).
        stop: Set it to make running shards stop at their next batch.

    Returns:
        The registered task.
    """

    def shard_task(task: Any, broadcast_id: str, shard: dict[str, Any], options: Any) -> str:
        job = ShardJob.from_payload(
            {"broadcast_id": broadcast_id, "shard": shard, "options": options}
        )
        try:
            outcome = run_shard_job(dsn, job, open_page, schema=schema, stop=stop)
        except Exception as exc:
            # With late acks Celery would acknowledge a failed task and drop it; a
            # database or network hiccup must not lose the shard, so try again.
            logger.warning("shard %s of %s failed (%s); retrying", job.shard.key, broadcast_id, exc)
            delay = min(ERROR_DELAY_MAX, RETRY_DELAY * 2**task.request.retries)
            raise task.retry(exc=exc, countdown=delay, max_retries=ERROR_RETRIES) from exc
        if outcome in ("busy", "unfinished"):
            raise task.retry(countdown=RETRY_DELAY, max_retries=max_retries)
        return outcome

    # shared=False: Celery would otherwise register this closure on every app
    # created later in the process, and the first registration would win.
    return app.task(name=SHARD_TASK, bind=True, shared=False, max_retries=max_retries)(shard_task)


def enqueue_distributed(
    app: Any,
    dsn: str,
    broadcast_id: str,
    page_ids: Sequence[str],
    message: Message,
    purpose: Purpose,
    *,
    schema: str | None = None,
    shards_per_page: int = 1,
    lease: timedelta = DEFAULT_LEASE,
    batch_size: int | None = None,
    concurrency: int | None = None,
) -> list[ShardSpec]:
    """Record a distributed broadcast with its ledger rows, then publish its shard tasks.

    Enqueueing the same broadcast again (same message and purpose) publishes
    its shards again: use it to resume after a pause.

    Raises:
        ConfigurationError: The broadcast exists with another message or
            purpose, or the Pages or shard count are invalid.
    """
    jobs = record_distributed(
        dsn,
        broadcast_id,
        page_ids,
        message,
        purpose,
        schema=schema,
        shards_per_page=shards_per_page,
        options={
            "lease_seconds": lease.total_seconds(),
            "batch_size": batch_size,
            "concurrency": concurrency,
        },
    )
    for job in jobs:
        publish(app, job)
    mark_published(dsn, jobs, schema=schema)
    return [job.shard for job in jobs]


def sweep(
    app: Any,
    dsn: str,
    *,
    schema: str | None = None,
    unpublished_after: timedelta = timedelta(seconds=30),
    stale_after: timedelta = timedelta(seconds=30),
) -> list[ShardJob]:
    """Publish again the shard jobs that were never published or whose worker died.

    See :func:`fmc.scale.ledger.sweep_shards`.
    """
    return sweep_shards(
        dsn,
        lambda job: publish(app, job),
        schema=schema,
        unpublished_after=unpublished_after,
        stale_after=stale_after,
    )


def _sweep_every(
    app: Any, dsn: str, schema: str | None, every: float, done: threading.Event
) -> None:
    while not done.wait(every):
        try:
            sweep(
                app,
                dsn,
                schema=schema,
                unpublished_after=timedelta(seconds=every * 3),
                stale_after=timedelta(seconds=every * 3),
            )
        except Exception:  # a database or broker hiccup must not stop the sweeper
            logger.exception("could not sweep the shard ledger")


def run_worker(
    app: Any,
    dsn: str,
    *,
    schema: str | None = None,
    concurrency: int = 1,
    sweep_every: float = 10.0,
    loglevel: str = "INFO",
) -> None:
    """Run a Celery worker (thread pool) and the ledger's sweeper until SIGINT or SIGTERM.

    Args:
        app: From :func:`celery_app`, with :func:`add_shard_task` registered.
        dsn: The journal's PostgreSQL.
        schema: The PostgreSQL schema.
        concurrency: Shard jobs at once in this process.
        sweep_every: Seconds between sweeps; a job silent for three of them
            is presumed dead and its shard published again (at least 1,
            as a task beats every second).
        loglevel: The worker's log level.
    """
    if sweep_every < 1:
        raise ConfigurationError(f"sweep_every must be 1 second or more, got {sweep_every!r}")
    done = threading.Event()
    sweeper = threading.Thread(
        target=_sweep_every, args=(app, dsn, schema, sweep_every, done), daemon=True
    )
    sweeper.start()
    try:
        app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={concurrency}",
                f"--queues={app.conf.task_default_queue}",
                f"--loglevel={loglevel}",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        done.set()
        sweeper.join()
