"""A webhook server process for the durability drills, on SQLite or PostgreSQL.

Usage: ``python webhook_worker.py URL_FILE (--db PATH | --dsn DSN --schema NAME)
[--commit-timeout S] [--forward-allow HOST] [--forward-from-memory]``.

It serves the drills' Page's webhook (the same Channel and WebhookServer as
``fmc serve``) on an ephemeral loopback port, writes its URL to ``URL_FILE``
once it listens, and stops cleanly on SIGTERM (forwarder first, then store).
The drills kill it with SIGKILL, stop its database, or lock it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from contextlib import ExitStack
from typing import Any

import drill_support as ds

import fmc
from fmc.cli.server import WebhookServer


def _store(args: argparse.Namespace) -> Any:
    if args.db:
        return fmc.SQLiteStore(args.db)
    return fmc.PostgresStore(args.dsn, schema=args.schema, connect_timeout=2.0)


def main(argv: list[str]) -> int:
    """Serve until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url_file")
    parser.add_argument("--db")
    parser.add_argument("--dsn")
    parser.add_argument("--schema")
    parser.add_argument("--commit-timeout", type=float)
    parser.add_argument("--forward-allow")
    parser.add_argument("--forward-from-memory", action="store_true")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with ExitStack() as stack:
        store = stack.enter_context(_store(args))
        client = stack.enter_context(ds.client("http://127.0.0.1:9"))
        forwarder = None
        if args.forward_allow:
            forwarder = fmc.Forwarder(
                [args.forward_allow],
                allow_private=True,
                outbox=store,
                persist_first=not args.forward_from_memory,
                drain_interval=3600,
            )
            stack.callback(forwarder.close)
            forwarder.start()
        handler = ds.channel(client, store, forwarder=forwarder).webhook
        if args.commit_timeout is not None:
            handler.commit_timeout = args.commit_timeout
        with WebhookServer(handler, port=0) as server:
            temporary = args.url_file + ".tmp"
            with open(temporary, "w") as out:
                out.write(server.url)
            os.replace(temporary, args.url_file)
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
