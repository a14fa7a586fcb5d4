"""Issue 14: a distributed broadcast on 4 worker processes vs 1, on the same PostgreSQL.

Target: at 50 ms fake Graph latency, 4 Procrastinate ``fmc worker`` processes
reach >= 3x the sends/s of one worker. Sending is I/O-bound (each request
waits 50 ms at the fake), so this holds on a 2-core machine.

Set-up per run: 4 Pages, each behind its own fake Graph API process with 50 ms
latency (one shard per Page runs at a time: the Page lock keeps each Page's
rate across workers, so the fleet scales with the number of Pages); the
subscribers in a fresh PostgreSQL schema; the workers started and ready
before the broadcast is enqueued. The time runs from the enqueue (the Python
equivalent of ``fmc broadcast --distributed``) until the journal has an
outcome for every subscriber, so it includes job pickup and the one rate
window a shard keeps its Page's lock after its last send. 1 worker and 4
workers alternate within one run; the medians of the repeats are compared.

Needs PostgreSQL: ``FMC_BENCH_POSTGRES_DSN`` or ``FMC_TEST_POSTGRES_DSN``;
without one the script says so and reports nothing.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import _common as c

LATENCY = 0.05
PAGES = [str(2_000_000_000_000 + i) for i in range(4)]
#: Requests in flight per shard. A worker spends about 1.5 ms of CPU per
#: unbatched send (measured), so at 8 in flight four workers need about a core
#: of their own and the ratio measures the machine's spare CPU, not fmc; at 4
#: they stay I/O-bound, which is the case the target describes.
IN_FLIGHT = 4
GOAL = 3.0


def token(page: str) -> str:
    return f"EAAGbenchScaleToken{page}"


@contextlib.contextmanager
def fakes() -> Iterator[dict[str, Any]]:
    """One fake Graph API process per Page, 50 ms per answer."""
    from _graph_process import FakeGraphProcess

    with contextlib.ExitStack() as stack:
        yield {
            page: stack.enter_context(
                FakeGraphProcess(
                    latency=LATENCY,
                    page_id=page,
                    access_token=token(page),
                    app_secret=c.APP_SECRET,
                )
            )
            for page in PAGES
        }


def environment(servers: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ, FMC_APP_SECRET=c.APP_SECRET)
    for page, server in servers.items():
        env[f"FMC_PAGE_TOKEN_{page}"] = token(page)
        env[f"FMC_GRAPH_URL_{page}"] = server.url
    return env


@contextlib.contextmanager
def schema(dsn: str, per_page: int) -> Iterator[str]:
    """A fresh schema with ``per_page`` subscribers on every Page, dropped afterwards."""
    import psycopg

    import fmc
    from fmc.store.base import EventRecord

    name = f"fmc_bench_{uuid.uuid4().hex[:10]}"
    at = datetime.now(timezone.utc) - timedelta(hours=1)
    with fmc.PostgresStore(dsn, schema=name) as store:
        for page in PAGES:
            store.record_events(
                [EventRecord(page, f"{page[-1]}b{i:06d}", at, interaction=True)
                 for i in range(per_page)]
            )  # fmt: skip
    try:
        yield name
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def fmc_process(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "fmc.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def settled(store: Any, broadcast_id: str) -> int:
    from fmc.scale import broadcast_status

    return sum(page.settled for page in broadcast_status(store, broadcast_id).pages)


def one_run(dsn: str, env: dict[str, str], workers: int, per_page: int) -> float:
    """Sends per second of ``workers`` worker processes over every Page's subscribers."""
    import fmc
    from fmc.scale.procrastinate_jobs import enqueue_distributed

    total = per_page * len(PAGES)
    with schema(dsn, per_page) as name:
        where = ("--postgres", dsn, "--schema", name)
        started = [
            fmc_process("worker", *where, "--heartbeat", "1", env=env) for _ in range(workers)
        ]
        try:
            for process in started:  # ready: the line it prints once its schema is in place
                assert process.stderr is not None
                line = process.stderr.readline()
                assert "taking shard jobs" in line, line
            began = time.perf_counter()
            enqueue_distributed(
                dsn,
                "bench",
                PAGES,
                fmc.Text("bench"),
                fmc.Purpose.NEWS,
                schema=name,
                concurrency=IN_FLIGHT,
            )
            with fmc.PostgresStore(dsn, schema=name) as store:
                while settled(store, "bench") < total:
                    time.sleep(0.05)
            elapsed = time.perf_counter() - began
        finally:
            for process in started:
                process.terminate()
            for process in started:
                process.communicate(timeout=30)
    return c.rate(total, elapsed)


def main() -> None:
    args = c.parse_args(__doc__ or "")
    report = c.Report("bench_scale (issue 14)", args)
    dsn = os.environ.get("FMC_BENCH_POSTGRES_DSN") or os.environ.get("FMC_TEST_POSTGRES_DSN")
    if not dsn:
        print("  no PostgreSQL (FMC_BENCH_POSTGRES_DSN or FMC_TEST_POSTGRES_DSN): nothing measured")
        c.exit_with(report)
    per_page = 250 if args.quick else 1000
    one: list[float] = []
    four: list[float] = []
    with fakes() as servers:
        env = environment(servers)
        for _ in range(args.repeat):
            one.append(one_run(dsn, env, 1, per_page))
            four.append(one_run(dsn, env, 4, per_page))
            print(f"  1 worker {one[-1]:,.0f} sends/s, 4 workers {four[-1]:,.0f} sends/s")
    ratio = c.median(four) / c.median(one)
    report.add(
        c.Row(
            target="14 four workers",
            measured=c.fmt_rate(c.median(four)),
            baseline=c.fmt_rate(c.median(one)) + " (1 worker)",
            ratio=f"{ratio:.2f}x",
            goal=f">= {GOAL:.0f}x",
            passed=ratio >= GOAL,
            note=f"Procrastinate, {len(PAGES)} Pages x {per_page} subscribers, "
            f"{LATENCY * 1000:.0f} ms fake latency, {IN_FLIGHT} requests in flight per "
            f"shard, median of {args.repeat} alternating runs; from enqueue to the last "
            "outcome in the journal",
            data={"one": one, "four": four},
        )
    )
    c.exit_with(report)


if __name__ == "__main__":
    main()
