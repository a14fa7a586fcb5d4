"""Target 4: recovery from rate limiting (error 613 on 10 % of calls).

The subprocess fake Graph API answers ``(#613) Calls to this API have exceeded
the rate limit`` to a seeded 10 % of sends, at 50 ms latency. ``send_many``
with the default client must deliver every message exactly once (by the
fake's delivery record), with at most 1.2 HTTP calls per send, and must wait
by sleeping: the client's process CPU time per send is compared with a
fault-free run of the same size in the same run, and the client's injected
``sleep`` counts how often it slept.

Run: ``python benchmarks/bench_recovery.py [--quick]``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import _common as c

LATENCY = 0.05
FAULT = "rate_limit:ratio=0.1"


class _Sleeps:
    """The client's sleep, counted."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.count += 1
            self.seconds += seconds
        time.sleep(seconds)


def _run(fake: Any, count: int, offset: int) -> dict[str, Any]:
    sleeps = _Sleeps()
    with c.client(fake.url, sleep=sleeps) as client:
        before = fake.state(since=10**12)
        wall, cpu, outcomes = c.timed(
            lambda: list(client.send_many(c.text_requests(count, offset)))
        )
        after = fake.state(since=before["delivery_count"])
    errors = Counter(type(o.error).__name__ for o in outcomes if not o.ok)
    per_psid = Counter(d["recipient"]["id"] for d in after["deliveries"])
    expected = {c.psid(n) for n in range(offset, offset + count)}
    return {
        "wall": wall,
        "cpu": cpu,
        "errors": dict(errors),
        "exactly_once": set(per_psid) == expected and set(per_psid.values()) == {1},
        "deliveries": after["delivery_count"] - before["delivery_count"],
        "http": after["http_requests"] - before["http_requests"],
        "injected": after["faults_injected"].get("rate_limit", 0)
        - before["faults_injected"].get("rate_limit", 0),
        "sleeps": sleeps.count,
        "slept": sleeps.seconds,
    }


def main() -> None:
    """Run target 4."""
    args = c.parse_args(__doc__ or "")
    report = c.Report("bench_recovery (target 4)", args)
    count = 500 if args.quick else 2_000
    faulty: list[dict[str, Any]] = []
    clean: list[dict[str, Any]] = []
    with c.fake_graph(LATENCY) as fake:
        with c.client(fake.url) as warm:
            list(warm.send_many(c.text_requests(100, start=10**9)))
        for round_ in range(args.repeat):
            offset = round_ * 10**6
            fake.set_faults([])
            clean.append(_run(fake, count, offset + 500_000))
            fake.set_faults([FAULT])
            faulty.append(_run(fake, count, offset))
            f = faulty[-1]
            print(
                f"  round {round_ + 1}: {count / f['wall']:,.0f}/s with 613s "
                f"({f['injected']} injected, {f['http']} requests, {f['sleeps']} sleeps), "
                f"{count / clean[-1]['wall']:,.0f}/s without",
                flush=True,
            )
    once = all(f["exactly_once"] and not f["errors"] for f in faulty)
    report.add(
        c.Row(
            "4 613 on 10%: delivered exactly once",
            f"{min(f['deliveries'] for f in faulty):,} of {count:,} once each",
            f"{count:,} sends",
            "100%" if once else "NO",
            "every message exactly once",
            once,
            f"{count} texts at {LATENCY * 1000:.0f} ms, default client, {args.repeat} run(s); "
            f"errors left: {[f['errors'] for f in faulty]}",
        )
    )
    calls = max(f["http"] / count for f in faulty)
    report.add(
        c.Row(
            "4 613 on 10%: HTTP calls per send",
            f"{calls:.3f} calls/send",
            "1 call/send without faults",
            f"{calls:.3f}",
            "<= 1.2",
            calls <= 1.2,
            f"worst of the runs; 613s injected: {[f['injected'] for f in faulty]}",
        )
    )
    cpu_faulty = c.median([f["cpu"] / count for f in faulty])
    cpu_clean = c.median([f["cpu"] / count for f in clean])
    busy = c.median([f["cpu"] / f["wall"] for f in faulty])
    sleeps = c.median([f["sleeps"] / max(1, f["injected"]) for f in faulty])
    report.add(
        c.Row(
            "4 613 on 10%: no busy-wait (client CPU/send)",
            f"{cpu_faulty * 1e6:.0f} us/send",
            f"{cpu_clean * 1e6:.0f} us/send fault-free",
            f"{cpu_faulty / cpu_clean:.2f}x",
            "<= 1.5x",
            cpu_faulty / cpu_clean <= 1.5,
            f"client process CPU {busy:.0%} of wall time while recovering; "
            f"{sleeps:.1f} sleeps per 613; throughput "
            f"{count / c.median([f['wall'] for f in faulty]):,.0f}/s with 613s vs "
            f"{count / c.median([f['wall'] for f in clean]):,.0f}/s without",
        )
    )
    c.exit_with(report)


if __name__ == "__main__":
    main()
