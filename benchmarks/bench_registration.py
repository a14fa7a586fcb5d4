"""Target 6: registering new subscribers through the Channel's webhook, on SQLite.

Signed deliveries, each a message from a person the Page has never seen, go
through ``channel.webhook.respond`` with a :class:`fmc.SQLiteStore` (WAL,
``synchronous=NORMAL``, the defaults): signature check, parsing, dedup in the
store, and registration. The baseline, in the same run, is the floor of one
SQLite transaction per delivery: a bare ``sqlite3`` connection with the same
settings committing one ``INSERT`` per person.

Run: ``python benchmarks/bench_registration.py [--quick]``.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from typing import Any

import _common as c


def _deliveries(count: int, start: int) -> list[tuple[bytes, dict[str, str]]]:
    from fmc.testing import message_event, signed_delivery

    now = int(time.time() * 1000)
    return [
        signed_delivery(
            message_event(c.psid(n), "Hello! I would like the news, please.", page_id=c.PAGE_ID),
            c.APP_SECRET,
            page_id=c.PAGE_ID,
            time=now,
        )
        for n in range(start, start + count)
    ]


def _fmc(directory: str, deliveries: list[tuple[bytes, dict[str, str]]]) -> float:
    import fmc

    page = c.page()
    store = fmc.SQLiteStore(os.path.join(directory, f"fmc-{time.monotonic_ns()}.db"))
    channel = fmc.Channel(
        page,
        client=fmc.Client(page),
        store=store,
        policy=fmc.MessagingPolicy(permissions={"pages_messaging"}),
        verify_token=c.VERIFY_TOKEN,
    )
    respond = channel.webhook.respond
    started = time.perf_counter()
    for body, headers in deliveries:
        response = respond("POST", {}, headers, body)
        if response.status != 200:
            raise RuntimeError(f"respond answered {response.status}")
    elapsed = time.perf_counter() - started
    registered = channel.subscriber_count()
    store.close()
    if registered != len(deliveries):
        raise RuntimeError(f"{registered} subscribers registered for {len(deliveries)} people")
    return c.rate(len(deliveries), elapsed)


def _bare(directory: str, count: int) -> float:
    conn = sqlite3.connect(
        os.path.join(directory, f"bare-{time.monotonic_ns()}.db"), isolation_level=None
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE subscribers (page_id TEXT, psid TEXT, first_seen INTEGER, "
        "PRIMARY KEY (page_id, psid))"
    )
    rows: list[Any] = [(c.PAGE_ID, c.psid(n), n) for n in range(count)]
    started = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO subscribers VALUES (?, ?, ?)", row)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return c.rate(count, elapsed)


def main() -> None:
    """Run target 6."""
    args = c.parse_args(__doc__ or "")
    report = c.Report("bench_registration (target 6)", args)
    count = 3_000 if args.quick else 20_000
    fmc_rates: list[float] = []
    bare_rates: list[float] = []
    with tempfile.TemporaryDirectory(prefix="fmc-bench-") as directory:
        for round_ in range(args.repeat):
            deliveries = _deliveries(count, round_ * 10**6)
            fmc_rates.append(_fmc(directory, deliveries))
            bare_rates.append(_bare(directory, count))
            print(
                f"  round {round_ + 1}: channel webhook {fmc_rates[-1]:,.0f}/s, "
                f"bare sqlite commit per row {bare_rates[-1]:,.0f}/s",
                flush=True,
            )
    f, b = c.median(fmc_rates), c.median(bare_rates)
    report.add(
        c.Row(
            "6 new subscribers via channel.webhook (SQLite)",
            c.fmt_rate(f, "subscribers/s"),
            f"{b:,.0f}/s bare commit per row",
            f"{f / 5_000:.2f}x goal, {f / b:.0%} of bare",
            ">= 5,000/s",
            f >= 5_000,
            f"{count:,} deliveries, one new person each, one thread, WAL + synchronous=NORMAL, "
            f"median of {args.repeat}",
            {"fmc": f, "bare": b},
        )
    )
    c.exit_with(report)


if __name__ == "__main__":
    main()
