"""A broadcast process for the SIGKILL drill: run one broadcast, print its report as JSON.

Usage: ``python broadcast_worker.py DB URL BROADCAST_ID [--at-least-once] [--concurrency N]
[--lease SECONDS] [--batch-size N] [--postgres DSN]``.
The subscribers are already in the SQLite file ``DB``; the fake Graph API
listens at ``URL``. The drill kills this process half-way and runs it again.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta

import drill_support as ds

import fmc


def main(argv: list[str]) -> int:
    """Run the broadcast and print the report's counts."""
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("url")
    parser.add_argument("broadcast_id")
    parser.add_argument("--at-least-once", action="store_true")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--schema", default=None, help="with a DSN as DB: the PostgreSQL schema")
    args = parser.parse_args(argv)
    store: fmc.SubscriberStore = (
        fmc.PostgresStore(args.db, schema=args.schema)
        if args.db.startswith("postgresql://")
        else fmc.SQLiteStore(args.db)
    )
    with store, ds.client(args.url, concurrency=args.concurrency) as client:
        report = ds.channel(client, store).broadcast(
            fmc.Text("drill"),
            ds.NEWS,
            broadcast_id=args.broadcast_id,
            at_least_once=args.at_least_once,
            batch_size=args.batch_size,
            lease=timedelta(seconds=args.lease),
        )
    counts = {
        "audience": report.audience,
        "sent": report.sent,
        "already_sent": report.already_sent,
        "skipped": dict(report.skipped),
        "failed": dict(report.failed),
        "ambiguous": report.ambiguous,
        "resent_ambiguous": report.resent_ambiguous,
        "elsewhere": report.elsewhere,
        "left": report.left,
        "recovered": report.recovered,
        "paused": report.paused,
        "total": report.total,
    }
    sys.stdout.write(json.dumps(counts) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
