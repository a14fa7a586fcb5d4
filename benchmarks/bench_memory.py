"""Target 7: a broadcast runs in constant memory.

For each audience size, a SQLite file is filled with that many subscribers
(everyone wrote to the Page a minute ago, so a ``RESPONSE`` broadcast may reach
them all). Then a fresh subprocess opens the store and runs
``channel.broadcast(...)`` for real, sending every message to the subprocess
fake Graph API (no latency, Graph batches of 50, 16 threads), and reports its
peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``). The
baseline is the same broadcast over a tenth of the audience.

With ``--audience N`` (issue 14: ``--audience 1000000``) it runs one broadcast
to N subscribers instead and reports its peak RSS against the 64 MB target,
and how long it took; filling the file and sending take minutes at a million.

Run: ``python benchmarks/bench_memory.py [--quick] [--audience N]``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import _common as c

CONCURRENCY = 16
BATCH = 50
#: Issue 14: a million subscribers in one process within this peak RSS.
ONE_PROCESS_MB = 64


def _fill(path: str, count: int) -> None:
    import fmc
    from fmc.store.base import EventRecord

    at = datetime.now(timezone.utc) - timedelta(minutes=1)
    store = fmc.SQLiteStore(path)
    chunk = 5_000
    for start in range(0, count, chunk):
        store.record_events(
            [
                EventRecord(c.PAGE_ID, c.psid(n), at, interaction=True)
                for n in range(start, min(count, start + chunk))
            ]
        )
    store.close()


def _child(path: str, url: str) -> None:
    """Run in the subprocess: one broadcast, then print the figures as JSON."""
    import fmc

    page = c.page()
    store = fmc.SQLiteStore(path)
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with fmc.Client(page, base_url=url, api_version=c.API_VERSION) as client:
        channel = fmc.Channel(
            page,
            client=client,
            store=store,
            policy=fmc.MessagingPolicy(permissions={"pages_messaging"}),
        )
        started = time.perf_counter()
        report = channel.broadcast(
            fmc.Text("Breaking: the store opens at 8 tomorrow."),
            fmc.Purpose.RESPONSE,
            concurrency=CONCURRENCY,
            batch_size=BATCH,
        )
        seconds = time.perf_counter() - started
    store.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "peak_kb": peak_kb,
                "before_kb": baseline_kb,
                "sent": report.sent,
                "audience": report.audience,
                "seconds": seconds,
            }
        )
    )


def _measure(directory: str, count: int, fake: object) -> dict[str, float]:
    path = os.path.join(directory, f"audience-{count}.db")
    if not os.path.exists(path):
        _fill(path, count)
    before = c.delivery_count(fake)
    result = subprocess.run(  # noqa: S603 - this script, this interpreter
        [sys.executable, __file__, "--child", path, fake.url],  # type: ignore[attr-defined]
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    delivered = c.delivery_count(fake) - before
    if figures["sent"] != count or delivered != count:
        raise RuntimeError(f"broadcast to {count}: sent {figures['sent']}, fake got {delivered}")
    return figures


def _one_audience(count: int, args: Any) -> None:
    """Issue 14: one broadcast to ``count`` subscribers, peak RSS and time."""
    report = c.Report(f"bench_memory (issue 14, {count:,} subscribers)", args)
    peaks: list[float] = []
    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="fmc-bench-") as directory, c.fake_graph(0.0) as fake:
        started = time.perf_counter()
        _fill(os.path.join(directory, f"audience-{count}.db"), count)
        filled = time.perf_counter() - started
        print(f"  filled {count:,} subscribers in {filled:.0f} s", flush=True)
        for round_ in range(args.repeat):
            figures = _measure(directory, count, fake)
            peaks.append(figures["peak_kb"] / 1024)
            times.append(figures["seconds"])
            print(
                f"  round {round_ + 1}: peak {peaks[-1]:.1f} MB, {times[-1]:.0f} s, "
                f"{count / times[-1]:,.0f} sends/s",
                flush=True,
            )
    peak, seconds = c.median(peaks), c.median(times)
    report.add(
        c.Row(
            f"14 one-process broadcast peak RSS at {count:,}",
            f"{peak:.1f} MB",
            f"{ONE_PROCESS_MB} MB (goal)",
            f"{peak / ONE_PROCESS_MB:.0%}",
            f"<= {ONE_PROCESS_MB} MB",
            peak <= ONE_PROCESS_MB,
            f"SQLite, batch_size={BATCH}, concurrency={CONCURRENCY}, 0 ms; took {seconds:.0f} s "
            f"({count / seconds:,.0f} sends/s, journal included); median of {args.repeat}",
            {"peak_mb": peak, "seconds": seconds},
        )
    )
    c.exit_with(report)


def main() -> None:
    """Run target 7 (or, with ``--child``, one broadcast)."""
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    argv = sys.argv[1:]
    audience = None
    if "--audience" in argv:
        at = argv.index("--audience")
        audience = int(argv[at + 1])
        del argv[at : at + 2]
    args = c.parse_args(__doc__ or "", argv)
    if audience is not None:
        _one_audience(audience, args)
        return
    report = c.Report("bench_memory (target 7)", args)
    large = 30_000 if args.quick else 200_000
    small = large // 10
    peaks: dict[int, list[float]] = {small: [], large: []}
    runs: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="fmc-bench-") as directory, c.fake_graph(0.0) as fake:
        for round_ in range(args.repeat):
            for count in (small, large):
                # A new broadcast id each time, so every run sends to everyone.
                figures = _measure(directory, count, fake)
                peaks[count].append(figures["peak_kb"] / 1024)
                runs[count] = figures
                print(
                    f"  round {round_ + 1}: {count:,} subscribers: peak {peaks[count][-1]:.1f} MB "
                    f"(at start {figures['before_kb'] / 1024:.1f} MB), "
                    f"{count / figures['seconds']:,.0f} sends/s",
                    flush=True,
                )
    p_small, p_large = c.median(peaks[small]), c.median(peaks[large])
    note = (
        f"real sends to the subprocess fake (0 ms, batch_size={BATCH}, "
        f"concurrency={CONCURRENCY}); each size in a fresh subprocess; median of {args.repeat}; "
        f"{large:,} took {runs[large]['seconds']:.0f} s"
    )
    report.add(
        c.Row(
            f"7 broadcast peak RSS growth {small:,} -> {large:,}",
            f"{p_large:.1f} MB at {large:,}",
            f"{p_small:.1f} MB at {small:,}",
            f"+{p_large - p_small:.1f} MB",
            "<= +10 MB",
            p_large - p_small <= 10,
            note,
            {"small": p_small, "large": p_large},
        )
    )
    report.add(
        c.Row(
            f"7 broadcast peak RSS at {large:,}",
            f"{p_large:.1f} MB",
            "150 MB (goal)",
            f"{p_large / 150:.0%}",
            "<= 150 MB",
            p_large <= 150,
            "ru_maxrss of the broadcasting process",
        )
    )
    c.exit_with(report)


if __name__ == "__main__":
    main()
