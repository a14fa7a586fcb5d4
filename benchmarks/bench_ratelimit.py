"""Target 3: with the limiter at 300/s, sends reach 95 % of 300/s and never exceed it.

Runs ``send_many`` of text messages with ``rate_limit=300`` against the
subprocess fake Graph API at 50 ms latency, and reads every delivery's time on
the fake's own clock. The rate is first delivery to last on that clock; the
check is the most deliveries in any sliding one-second window. The baseline is
Meta's limit, 300 sends/s.

Run: ``python benchmarks/bench_ratelimit.py [--quick]``.
"""

from __future__ import annotations

import time
from typing import Any

import _common as c

from fmc.transport import RateLimiter

LATENCY = 0.05
LIMIT = 300


class _Recording(RateLimiter):
    """The client's limiter, noting when each send leaves it (the client's clock)."""

    def __init__(self, rate: float) -> None:
        super().__init__(rate)
        self.left: list[float] = []

    def acquire(self, tokens: int = 1) -> float:
        slept = super().acquire(tokens)
        self.left.extend([time.monotonic()] * tokens)
        return slept


def _run(fake: Any, count: int, offset: int, batch_size: int | None) -> tuple[float, int, int]:
    limiter = _Recording(float(LIMIT))
    with c.client(fake.url, rate_limit=limiter) as client:
        before = c.delivery_count(fake)
        outcomes = list(client.send_many(c.text_requests(count, offset), batch_size=batch_size))
    if not all(o.ok for o in outcomes):
        raise RuntimeError("a rate-limited send failed")
    deliveries = fake.deliveries(since=before)
    if len(deliveries) != count:
        raise RuntimeError(f"{len(deliveries)} deliveries for {count} sends")
    server_peak = c.sliding_max([d["time"] for d in deliveries])
    return c.server_rate(deliveries), server_peak, c.sliding_max(limiter.left)


def main() -> None:
    """Run target 3."""
    args = c.parse_args(__doc__ or "")
    report = c.Report("bench_ratelimit (target 3)", args)
    count = 900 if args.quick else 3_000
    for batch_size, label in ((None, "single sends"), (50, "batch_size=50")):
        rates: list[float] = []
        peaks: list[int] = []
        client_peaks: list[int] = []
        with c.fake_graph(LATENCY) as fake:
            for round_ in range(args.repeat):
                rate, peak, client_peak = _run(fake, count, round_ * 10**6, batch_size)
                rates.append(rate)
                peaks.append(peak)
                client_peaks.append(client_peak)
                print(
                    f"  {label} round {round_ + 1}: {rate:.1f}/s, busiest second {peak} "
                    f"(fake's clock), {client_peak} (leaving the limiter)",
                    flush=True,
                )
        rate = c.median(rates)
        peak = max(peaks)
        report.add(
            c.Row(
                f"3 rate_limit=300, {label}: rate",
                f"{rate:.1f} sends/s",
                f"{LIMIT} sends/s (Meta)",
                f"{rate / LIMIT:.1%}",
                ">= 95%",
                rate >= 0.95 * LIMIT,
                f"{count} texts at {LATENCY * 1000:.0f} ms, default concurrency, "
                f"median of {args.repeat}, on the fake's clock",
                {"rate": rate, "rates": rates},
            )
        )
        report.add(
            c.Row(
                f"3 rate_limit=300, {label}: busiest 1-s window",
                f"{peak} sends",
                f"{LIMIT} sends",
                f"{peak / LIMIT:.1%}",
                "<= 300 in every window",
                peak <= LIMIT,
                f"sliding window on the fake's clock, worst of {args.repeat} runs: {peaks}",
                {"peak": peak, "peaks": peaks},
            )
        )
        client_peak = max(client_peaks)
        report.add(
            c.Row(
                f"3 rate_limit=300, {label}: busiest 1-s window leaving the limiter",
                f"{client_peak} sends",
                f"{LIMIT} sends",
                f"{client_peak / LIMIT:.1%}",
                "<= 300 in every window",
                client_peak <= LIMIT,
                "sliding window on the client's clock, when acquire returned, "
                f"worst of {args.repeat} runs: {client_peaks}",
                {"peak": client_peak, "peaks": client_peaks},
            )
        )
    c.exit_with(report)


if __name__ == "__main__":
    main()
