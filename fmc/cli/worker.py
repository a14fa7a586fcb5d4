"""``fmc worker`` and ``fmc broadcast --distributed``: shard jobs on Procrastinate or Celery.

A worker builds each Page's client from *its own* configuration: the Page
token of Page ``ID`` is ``FMC_PAGE_TOKEN_ID`` (or ``FMC_PAGE_TOKEN`` for the
configured ``FMC_PAGE_ID``), its Graph API URL ``FMC_GRAPH_URL_ID`` (or the
configured one; a per-Page URL lets each Page point at its own fake in tests).
Jobs carry no secret. ``--engine celery`` also needs the broker's URL
(``--broker`` or ``FMC_CELERY_BROKER``); the journal stays in PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fmc.channel.control import DEFAULT_LEASE
from fmc.cli.command import Streams, add_command
from fmc.cli.config import Config
from fmc.cli.distributed import BROKER_ENV, ENGINES, POSTGRES_ENV, add_database_options
from fmc.errors import ConfigurationError
from fmc.models.page import Page
from fmc.policy import MessagingPolicy
from fmc.scale import PageOpener, PageResources
from fmc.store import PostgresStore, SubscriberStore
from fmc.transport import Client, RateLimiter

__all__ = [
    "WORKER_RATE_MARGIN",
    "add_parsers",
    "env_page_opener",
    "run_enqueue",
    "run_worker_command",
]


#: A worker widens its rate limiter's one-second window by 25 % (a client's
#: default is 2 %): on a machine busy with several workers, the time from a
#: worker's send to Meta varies by up to a few hundred milliseconds, and a batch
#: delayed into the next second must not crowd that second past the limit (the
#: drills measured 550 sends in one second at a 500/s limit with 10 %).
WORKER_RATE_MARGIN = 0.25


def env_page_opener(
    config: Config, store: SubscriberStore, environ: Mapping[str, str]
) -> PageOpener:
    """Open a Page's client, the shared store and the configured policy, from the environment."""
    policy = MessagingPolicy(permissions=set(config.permissions))

    @contextmanager
    def open_page(page_id: str) -> Iterator[PageResources]:
        token = environ.get(f"FMC_PAGE_TOKEN_{page_id}")
        if token is None and page_id == config.page_id:
            token = config.page_token
        if not token:
            raise ConfigurationError(
                f"no token for Page {page_id} on this worker; set FMC_PAGE_TOKEN_{page_id}"
            )
        url = environ.get(f"FMC_GRAPH_URL_{page_id}") or config.graph_url
        page = Page(page_id, token, app_secret=config.app_secret)
        limiter = (
            None
            if config.rate_limit is None
            else RateLimiter(config.rate_limit, margin=WORKER_RATE_MARGIN)
        )
        with Client(page, base_url=url, rate_limit=limiter) as client:
            yield PageResources(client, store, policy)

    return open_page


def _dsn(args: argparse.Namespace) -> str:
    dsn = args.postgres or os.environ.get(POSTGRES_ENV)
    if not dsn:
        raise ConfigurationError(
            f"distributed broadcasts need PostgreSQL: set {POSTGRES_ENV} or --postgres DSN"
        )
    return str(dsn)


def _broker(args: argparse.Namespace) -> str:
    broker = args.broker or os.environ.get(BROKER_ENV)
    if not broker:
        raise ConfigurationError(
            f"--engine celery needs a broker: set {BROKER_ENV} or --broker URL "
            "(e.g. redis://127.0.0.1:6379/0)"
        )
    return str(broker)


def run_worker_command(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Run ``fmc worker``: take shard jobs until SIGINT or SIGTERM."""
    dsn = _dsn(args)
    if args.engine == "celery":
        return _run_celery_worker(args, config, streams, dsn)
    from fmc.scale.procrastinate_jobs import install_schema, procrastinate_app, run_worker

    install_schema(dsn, schema=args.schema)
    with PostgresStore(dsn, schema=args.schema) as store:
        app = procrastinate_app(dsn, env_page_opener(config, store, os.environ), schema=args.schema)
        streams.err.write(f"fmc: worker taking shard jobs from queue {args.queue}\n")
        streams.err.flush()
        run_worker(app, queues=[args.queue], concurrency=args.jobs, heartbeat=args.heartbeat)
    return 0


def _run_celery_worker(args: argparse.Namespace, config: Config, streams: Streams, dsn: str) -> int:
    from fmc.scale import celery_tasks
    from fmc.scale.ledger import install_ledger

    broker = _broker(args)
    install_ledger(dsn, schema=args.schema)
    app = celery_tasks.celery_app(broker, queue=args.queue)
    with PostgresStore(dsn, schema=args.schema) as store:
        opener = env_page_opener(config, store, os.environ)
        celery_tasks.add_shard_task(app, dsn, opener, schema=args.schema)
        streams.err.write(f"fmc: celery worker taking shard jobs from queue {args.queue}\n")
        streams.err.flush()
        celery_tasks.run_worker(
            app,
            dsn,
            schema=args.schema,
            concurrency=args.jobs,
            sweep_every=args.heartbeat,
            loglevel="INFO" if args.verbose else "WARNING",
        )
    return 0


def run_enqueue(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Run ``fmc broadcast --distributed``: record the broadcast and enqueue its shard jobs."""
    pages = [p for p in (args.pages or config.page_id or "").split(",") if p]
    broadcast_id = args.resume or f"bc-{uuid.uuid4().hex[:16]}"
    options: dict[str, Any] = {
        "schema": args.schema,
        "shards_per_page": args.shards_per_page,
        "batch_size": args.batch_size,
        "concurrency": args.concurrency,
        "lease": timedelta(seconds=args.lease),
    }
    if args.engine == "celery":
        from fmc.scale import celery_tasks

        app = celery_tasks.celery_app(_broker(args), queue=args.queue)
        shards = celery_tasks.enqueue_distributed(
            app, _dsn(args), broadcast_id, pages, args.text, args.purpose, **options
        )
    else:
        from fmc.scale.procrastinate_jobs import enqueue_distributed

        shards = enqueue_distributed(
            _dsn(args), broadcast_id, pages, args.text, args.purpose, queue=args.queue, **options
        )
    streams.out.write(
        f"broadcast {broadcast_id}: {len(shards)} shard jobs over {len(pages)} Pages enqueued\n"
        f"follow it with: fmc broadcast status {broadcast_id}\n"
    )
    return 0


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine", choices=ENGINES, default=ENGINES[0], help="the task engine [procrastinate]"
    )
    parser.add_argument(
        "--broker", metavar="URL", help=f"Celery's broker, for --engine celery [{BROKER_ENV}]"
    )


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``worker`` and ``broadcast-distributed`` (``broadcast --distributed``)."""
    from fmc.cli.send import _batch_size, _positive, _purpose, _text

    worker = add_command(
        commands,
        common,
        "worker",
        run_worker_command,
        help="run a worker that sends distributed broadcasts' shard jobs",
        description="Take shard jobs of distributed broadcasts from PostgreSQL "
        "(Procrastinate) or a Celery broker and send them, until SIGINT or SIGTERM.",
    )
    add_database_options(worker)
    _add_engine_options(worker)
    worker.add_argument("--queue", default="fmc", help="the job queue [fmc]")
    worker.add_argument("--jobs", type=_positive, default=1, help="shard jobs at once [1]")
    worker.add_argument(
        "--heartbeat",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="seconds between heartbeats (Celery: between ledger sweeps); silent for 3, "
        "a worker's jobs are retried [10]",
    )

    enqueue = add_command(
        commands,
        common,
        "broadcast-distributed",
        run_enqueue,
        help="enqueue a broadcast as shard jobs (also: fmc broadcast --distributed)",
        description="Record a broadcast and its shard jobs in one transaction (then publish "
        "them, with --engine celery); `fmc worker` processes send them.",
    )
    add_database_options(enqueue)
    _add_engine_options(enqueue)
    enqueue.add_argument("--text", required=True, type=_text, help="the message text")
    enqueue.add_argument("--purpose", type=_purpose, required=True, help="why it is sent")
    enqueue.add_argument("--pages", metavar="IDS", help="Page ids, comma-separated [FMC_PAGE_ID]")
    enqueue.add_argument(
        "--shards-per-page", type=_positive, default=1, metavar="N", help="shards per Page [1]"
    )
    enqueue.add_argument("--resume", metavar="ID", help="enqueue this broadcast's shards again")
    enqueue.add_argument("--queue", default="fmc", help="the job queue [fmc]")
    enqueue.add_argument("--batch-size", type=_batch_size, metavar="N", help="sends per batch")
    enqueue.add_argument(
        "--lease",
        type=float,
        default=DEFAULT_LEASE.total_seconds(),
        metavar="SECONDS",
        help="how long a shard run may go without a heartbeat before it is presumed dead [30]",
    )
    enqueue.add_argument("--concurrency", type=_positive, metavar="N", help="requests in flight")
