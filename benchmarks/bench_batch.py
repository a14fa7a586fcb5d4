"""Target 2: Graph batch requests, ``batch_size=50``, at 50 ms latency.

Measures ``send_many(..., batch_size=50)`` against the subprocess fake Graph
API and, in the same run, unbatched ``send_many`` with the same (default)
concurrency. The HTTP request count comes from the fake's own record.

Run: ``python benchmarks/bench_batch.py [--quick]``.
"""

from __future__ import annotations

from typing import Any

import _common as c

LATENCY = 0.05
BATCH = 50


def _run(fake: Any, count: int, offset: int, batch_size: int | None) -> tuple[float, int, float]:
    with c.client(fake.url) as client:
        list(client.send_many(c.text_requests(500, start=offset + 10**8), batch_size=batch_size))
        before = fake.state(since=10**12)
        wall, cpu, outcomes = c.timed(
            lambda: list(client.send_many(c.text_requests(count, offset), batch_size=batch_size))
        )
        after = fake.state(since=10**12)
    failed = [o.error for o in outcomes if not o.ok]
    if failed or len(outcomes) != count:
        raise RuntimeError(f"{len(failed)} of {count} sends failed: {failed[:1]!r}")
    delivered = after["delivery_count"] - before["delivery_count"]
    if delivered != count:
        raise RuntimeError(f"the fake recorded {delivered} deliveries for {count} sends")
    return c.rate(count, wall), after["http_requests"] - before["http_requests"], cpu / count


def main() -> None:
    """Run target 2."""
    args = c.parse_args(__doc__ or "")
    report = c.Report("bench_batch (target 2)", args)
    count = 5_000 if args.quick else 20_000
    single_count = 1_000 if args.quick else 5_000
    batched: list[float] = []
    single: list[float] = []
    requests: list[int] = []
    cpu: list[float] = []
    with c.fake_graph(LATENCY) as fake:
        for round_ in range(args.repeat):
            offset = round_ * 10**6
            rate, http, cpu_per_send = _run(fake, count, offset, BATCH)
            batched.append(rate)
            requests.append(http)
            cpu.append(cpu_per_send)
            single.append(_run(fake, single_count, offset + 500_000, None)[0])
            print(
                f"  round {round_ + 1}: batched {batched[-1]:,.0f}/s in {http} requests, "
                f"single {single[-1]:,.0f}/s",
                flush=True,
            )
    b, s = c.median(batched), c.median(single)
    report.add(
        c.Row(
            "2 send_many(batch_size=50) rate",
            c.fmt_rate(b),
            f"{s:,.0f} sends/s unbatched",
            f"{b / s:.1f}x ({b:,.0f}/s vs 2,000/s goal)",
            ">= 2,000 sends/s",
            b >= 2_000,
            f"{count} texts at {LATENCY * 1000:.0f} ms, default concurrency, median of "
            f"{args.repeat}; client CPU/send {c.median(cpu) * 1e6:.0f} us",
            {"batched": b, "single": s},
        )
    )
    http = max(requests)
    report.add(
        c.Row(
            "2 HTTP requests per send (batch_size=50)",
            f"{http:,} requests",
            f"{count:,} sends",
            f"{count / http:.1f}x fewer",
            ">= 40x fewer",
            count / http >= 40,
            "HTTP requests counted by the fake; worst of the repeats",
            {"requests": requests, "sends": count},
        )
    )
    c.exit_with(report)


if __name__ == "__main__":
    main()
