"""Issue 14: a one-process broadcast against a raw batched ``send_many``, same run.

Both send the same number of text messages through ``batch_size=50`` to the
subprocess fake Graph API at 0 ms latency; the broadcast also streams the
subscribers from a SQLite store (and from PostgreSQL with ``--postgres DSN``,
or the ``FMC_TEST_POSTGRES_DSN`` environment variable), asks the policy and
journals every send. Each round runs raw, SQLite and PostgreSQL back to back,
so a ratio compares runs made under the same load; the rows show the median of
the rounds' ratios (broadcast / raw ≥ 0.85 on SQLite; PostgreSQL / SQLite ≥
0.6), and the median rates.

With ``--memory-store``, each round also runs the broadcast on a
:class:`~fmc.MemoryStore` (no durable journal) and prints its ratio to raw
without a goal: the share of the gap that SQLite's journal writes take.

With ``--profile``, it runs one broadcast per store under ``cProfile`` instead
(the main thread: it streams, decides, claims and settles; the client's
threads hand off and send) and prints where the time went.

Run: ``python benchmarks/bench_broadcast_ratio.py [--quick] [--repeat N] [--postgres DSN]
[--memory-store] [--profile]``.
"""

from __future__ import annotations

import contextlib
import os
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
    dsn = os.environ.get("FMC_TEST_POSTGRES_DSN") or None
    if "--postgres" in argv:
        at = argv.index("--postgres")
        dsn = argv[at + 1]
        del argv[at : at + 2]
    profile = "--profile" in argv
    if profile:
        argv.remove("--profile")
    with_memory = "--memory-store" in argv
    if with_memory:
        argv.remove("--memory-store")
    args = c.parse_args(__doc__ or "", argv)
    report = c.Report("bench_broadcast_ratio (issue 14)", args)
    count = 5_000 if args.quick else 50_000
    import fmc

    raw: list[float] = []
    sqlite: list[float] = []
    postgres: list[float] = []
    memory: list[float] = []
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(c.fake_graph(0.0))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        lite = stack.enter_context(fmc.SQLiteStore(Path(tmp) / "bench.db"))
        _register(lite, count)
        pg = None
        if dsn:
            stack.callback(_drop_schema, dsn, schema)
            pg = stack.enter_context(fmc.PostgresStore(dsn, schema=schema))
            _register(pg, count)
        in_memory = None
        if with_memory:
            in_memory = fmc.MemoryStore()
            _register(in_memory, count)
        if profile:
            for store in (lite, pg):
                if store is not None:
                    _profile(fake.url, store)
            return
        for round_ in range(args.repeat):
            raw.append(_raw(fake.url, count))
            sqlite.append(_broadcast(fake.url, lite))
            if pg is not None:
                postgres.append(_broadcast(fake.url, pg))
            if in_memory is not None:
                memory.append(_broadcast(fake.url, in_memory))
            shown = "" if pg is None else f", PostgreSQL {c.fmt_rate(postgres[-1])}"
            shown += "" if in_memory is None else f", MemoryStore {c.fmt_rate(memory[-1])}"
            print(
                f"  round {round_ + 1}: raw {c.fmt_rate(raw[-1])}, "
                f"SQLite {c.fmt_rate(sqlite[-1])}{shown}",
                flush=True,
            )
    note = f"{count:,} sends, batch_size=50, 0 ms; median of {args.repeat} rounds' ratios"
    ratio = c.median([b / r for b, r in zip(sqlite, raw, strict=True)])
    report.add(
        c.Row(
            "14 one-process broadcast, SQLite, vs raw send_many(batch_size=50)",
            c.fmt_rate(c.median(sqlite)),
            c.fmt_rate(c.median(raw)),
            f"{ratio:.2f}",
            ">= 0.85",
            ratio >= 0.85,
            note,
            {"ratios": [b / r for b, r in zip(sqlite, raw, strict=True)]},
        )
    )
    if postgres:
        ratio = c.median([p / q for p, q in zip(postgres, sqlite, strict=True)])
        report.add(
            c.Row(
                "14 one-process broadcast, PostgreSQL, vs the same on SQLite",
                c.fmt_rate(c.median(postgres)),
                c.fmt_rate(c.median(sqlite)),
                f"{ratio:.2f}",
                ">= 0.6",
                ratio >= 0.6,
                note,
                {"ratios": [p / q for p, q in zip(postgres, sqlite, strict=True)]},
            )
        )
    else:
        print("  (no PostgreSQL: pass --postgres DSN or set FMC_TEST_POSTGRES_DSN)")
    if memory:
        ratios = [m / r for m, r in zip(memory, raw, strict=True)]
        print(
            f"  MemoryStore broadcast / raw (no goal; no durable journal): median "
            f"{c.median(ratios):.2f}, rounds {', '.join(f'{x:.2f}' for x in ratios)}"
        )
    c.exit_with(report)


def _profile(url: str, store: Any) -> None:
    import cProfile
    import pstats

    import fmc

    _ = (fmc.Channel, fmc.Client, fmc.MessagingPolicy, fmc.Text)  # imports outside the profile
    profiler = cProfile.Profile()
    profiler.enable()
    rate = _broadcast(url, store)
    profiler.disable()
    print(f"== {type(store).__name__}: {c.fmt_rate(rate)} under cProfile (main thread) ==")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(r"fmc|sqlite3|psycopg", 30)
    stats.sort_stats("tottime").print_stats(15)


def _drop_schema(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
