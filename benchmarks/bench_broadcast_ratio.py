"""Issue 14: a one-process broadcast against a raw batched ``send_many``, same run.

Both send the same number of text messages through ``batch_size=50`` to the
subprocess fake Graph API at 0 ms latency; the broadcast also streams the
subscribers from a SQLite store (or PostgreSQL with ``--postgres DSN``), asks
the policy and journals every send. Prints medians of the repeats and the
ratios the issue targets (broadcast / raw ≥ 0.85 on SQLite; PostgreSQL /
SQLite ≥ 0.6).

Run: ``python benchmarks/bench_broadcast_ratio.py [--quick] [--postgres DSN]``.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import _common as c

NOW = datetime.now(timezone.utc)


def _register(store: Any, count: int) -> None:
    from fmc.store.base import EventRecord

    at = NOW - timedelta(hours=1)
    for start in range(0, count, 1000):
        store.record_events(
            [
                EventRecord(c.PAGE_ID, c.psid(i), at, interaction=True)
                for i in range(start, min(count, start + 1000))
            ]
        )


def _broadcast(url: str, store: Any) -> float:
    import fmc

    with c.client(url) as client:
        channel = fmc.Channel(
            client.page,
            client=client,
            store=store,
            policy=fmc.MessagingPolicy(permissions={"pages_messaging"}),
        )
        wall, _cpu, report = c.timed(
            lambda: channel.broadcast(
                fmc.Text("Breaking news"), fmc.Purpose.NEWS, batch_size=50,
                broadcast_id=f"bench-{uuid.uuid4().hex[:8]}",
            )
        )  # fmt: skip
    if report.sent != store.count(c.PAGE_ID):
        raise RuntimeError(f"the broadcast sent {report.sent} of {store.count(c.PAGE_ID)}")
    return c.rate(report.sent, wall)


def _raw(url: str, count: int) -> float:
    with c.client(url) as client:
        wall, _cpu, outcomes = c.timed(
            lambda: list(client.send_many(c.text_requests(count), batch_size=50))
        )
    if not all(o.ok for o in outcomes):
        raise RuntimeError("a raw send failed")
    return c.rate(count, wall)


def main() -> None:
    """Run the comparison."""
    argv = sys.argv[1:]
    dsn = None
    if "--postgres" in argv:
        at = argv.index("--postgres")
        dsn = argv[at + 1]
        del argv[at : at + 2]
    args = c.parse_args(__doc__ or "", argv)
    count = 5_000 if args.quick else 50_000
    import fmc

    raw, sqlite, postgres = [], [], []
    with c.fake_graph(0.0) as fake, tempfile.TemporaryDirectory() as tmp:
        with fmc.SQLiteStore(Path(tmp) / "bench.db") as store:
            _register(store, count)
            for _ in range(args.repeat):
                raw.append(_raw(fake.url, count))
                sqlite.append(_broadcast(fake.url, store))
        if dsn:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            try:
                with fmc.PostgresStore(dsn, schema=schema) as pg:
                    _register(pg, count)
                    for _ in range(args.repeat):
                        postgres.append(_broadcast(fake.url, pg))
            finally:
                import psycopg

                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(f"{count:,} sends, batch_size=50, 0 ms, medians of {args.repeat}: {c.machine()}")
    print(f"  raw send_many:       {c.fmt_rate(c.median(raw))}")
    ratio = c.median(sqlite) / c.median(raw)
    print(f"  broadcast, SQLite:   {c.fmt_rate(c.median(sqlite))}  ratio {ratio:.2f} (≥ 0.85)")
    if postgres:
        ratio = c.median(postgres) / c.median(sqlite)
        print(
            f"  broadcast, Postgres: {c.fmt_rate(c.median(postgres))} to SQLite {ratio:.2f} (≥ 0.6)"
        )


if __name__ == "__main__":
    main()
