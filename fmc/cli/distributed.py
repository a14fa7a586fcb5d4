"""``fmc broadcast status ID``: a distributed broadcast's progress across Pages and workers.

``fmc broadcast status ID`` is read as ``fmc broadcast-status ID`` (see
:func:`route`), so the ``broadcast`` command keeps its own options.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fmc.cli.command import Streams, add_command
from fmc.cli.config import Config
from fmc.scale import broadcast_status
from fmc.store import PostgresStore, SubscriberStore

__all__ = [
    "BROKER_ENV",
    "ENGINES",
    "POSTGRES_ENV",
    "add_parsers",
    "open_journal",
    "route",
    "run_status",
]

#: The environment variable naming the PostgreSQL database of distributed broadcasts.
POSTGRES_ENV = "FMC_POSTGRES"
#: The environment variable naming Celery's broker (``--engine celery``).
BROKER_ENV = "FMC_CELERY_BROKER"
#: The task engines ``fmc worker`` and ``fmc broadcast --distributed`` know, the default first.
ENGINES = ("procrastinate", "celery")

#: ``fmc WORDS…`` that stand for another command name.
_ROUTES = {("broadcast", "status"): "broadcast-status"}


def route(argv: Sequence[str]) -> list[str]:
    """``argv`` with two-word commands turned into their command name.

    ``broadcast status ID`` is ``broadcast-status ID``, and ``broadcast
    --distributed …`` is ``broadcast-distributed …``.
    """
    words = list(argv)
    for prefix, name in _ROUTES.items():
        if tuple(words[: len(prefix)]) == prefix:
            return [name, *words[len(prefix) :]]
    if words[:1] == ["broadcast"] and "--distributed" in words:
        return ["broadcast-distributed", *(w for w in words[1:] if w != "--distributed")]
    return words


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """``--postgres`` and ``--schema``: where distributed broadcasts are journaled."""
    parser.add_argument(
        "--postgres",
        metavar="DSN",
        help=f"the PostgreSQL database of distributed broadcasts [{POSTGRES_ENV}]; "
        "without it, the SQLite file of --db",
    )
    parser.add_argument("--schema", metavar="NAME", help="the PostgreSQL schema (search path)")


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``broadcast-status`` (also spelled ``broadcast status``) to the subparsers."""
    status = add_command(
        commands,
        common,
        "broadcast-status",
        run_status,
        help="show a distributed broadcast's progress (also: fmc broadcast status ID)",
        description="Show where a distributed broadcast stands: journal entries per state "
        "for each Page and in total, and how many runs are sending now.",
    )
    status.add_argument("broadcast_id", metavar="ID", help="the distributed broadcast's id")
    add_database_options(status)


@contextmanager
def open_journal(args: argparse.Namespace, config: Config) -> Iterator[SubscriberStore]:
    """The store named by ``--postgres`` (or ``FMC_POSTGRES``), else the configured SQLite file."""
    dsn = args.postgres or os.environ.get(POSTGRES_ENV)
    if dsn:
        with PostgresStore(dsn, schema=args.schema) as store:
            yield store
        return
    from fmc.cli.context import open_store

    with open_store(config, create=False) as sqlite:
        yield sqlite


def run_status(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Run ``fmc broadcast status ID``: the summary on stdout.

    Returns:
        0; a missing broadcast is a configuration error (exit 2).
    """
    with open_journal(args, config) as store:
        status = broadcast_status(store, args.broadcast_id)
    streams.out.write(status.summary() + "\n")
    return 0
