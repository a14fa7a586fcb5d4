"""A broadcast process for the SIGKILL drill: run one broadcast, print its report as JSON.

Usage: ``python broadcast_worker.py DB URL BROADCAST_ID [--at-least-once] [--concurrency N]``.
The subscribers are already in the SQLite file ``DB``; the fake Graph API
listens at ``URL``. The drill kills this process half-way and runs it again.
"""

from __future__ import annotations

import argparse
import json
import sys

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
    args = parser.parse_args(argv)
    with (
        fmc.SQLiteStore(args.db) as store,
        ds.client(args.url, concurrency=args.concurrency) as client,
    ):
        report = ds.channel(client, store).broadcast(
            fmc.Text("drill"),
            ds.NEWS,
            broadcast_id=args.broadcast_id,
            at_least_once=args.at_least_once,
        )
    counts = {
        "audience": report.audience,
        "sent": report.sent,
        "already_sent": report.already_sent,
        "skipped": dict(report.skipped),
        "failed": dict(report.failed),
        "ambiguous": report.ambiguous,
        "resent_ambiguous": report.resent_ambiguous,
        "total": report.total,
    }
    sys.stdout.write(json.dumps(counts) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
