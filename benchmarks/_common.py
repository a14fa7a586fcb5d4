"""Shared helpers of fmc's benchmarks: arguments, the fake Graph API, the figures table.

Every benchmark script measures fmc and a baseline in the same run, prints one
table row per target (measured, baseline, ratio, goal, PASS/FAIL), and, with
``--json PATH``, appends its rows to a JSON-lines file for ``run.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import hashlib
import hmac
import json
import os
import platform
import statistics
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

PAGE_ID = "1234567890"
ACCESS_TOKEN = "bench-page-token"
APP_SECRET = "bench-app-secret"
VERIFY_TOKEN = "bench-verify-token"
API_VERSION = "v25.0"


@dataclass
class Row:
    """One measured target.

    Attributes:
        target: The issue's target number and a short name, e.g. ``"1 send_many"``.
        measured: fmc's figure, with its unit.
        baseline: The baseline's figure, measured in the same run.
        ratio: measured / baseline (or the figure compared with the goal).
        goal: What the target asks, e.g. ``">= 50x"``.
        passed: Whether the target holds.
        note: How it was measured (counts, repeats, medians).
        aim: A goal beyond the issue's targets: shown, but a miss does not
            fail the run.
    """

    target: str
    measured: str
    baseline: str
    ratio: str
    goal: str
    passed: bool
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    aim: bool = False

    @property
    def verdict(self) -> str:
        """PASS, FAIL, or MISSED (aim) for an aim that was not reached."""
        if self.passed:
            return "PASS"
        return "MISSED (aim)" if self.aim else "FAIL"


class Report:
    """Collects the rows of one benchmark script and prints them."""

    def __init__(self, title: str, args: argparse.Namespace) -> None:
        self.title = title
        self.args = args
        self.rows: list[Row] = []

    def add(self, row: Row) -> None:
        """Record a row and print it at once (long runs show progress)."""
        self.rows.append(row)
        mark = row.verdict
        print(
            f"  [{mark}] {row.target}: {row.measured} vs {row.baseline} -> {row.ratio}", flush=True
        )

    def finish(self) -> int:
        """Print the table, write the JSON rows, and return the exit code."""
        print()
        print_table(self.title, self.rows)
        if self.args.json:
            with open(self.args.json, "a", encoding="utf-8") as out:
                for row in self.rows:
                    out.write(json.dumps({"script": self.title, **asdict(row)}) + "\n")
        return 0 if all(row.passed or row.aim for row in self.rows) else 1


def print_table(title: str, rows: Sequence[Row]) -> None:
    """Print rows as an aligned text table."""
    header = ("target", "measured", "baseline", "ratio", "goal", "result")
    lines = [(r.target, r.measured, r.baseline, r.ratio, r.goal, r.verdict) for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    print(f"== {title} ==")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
    for r in rows:
        if r.note:
            print(f"  {r.target}: {r.note}")
    print(flush=True)


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The arguments every benchmark script takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smaller counts, one repeat")
    parser.add_argument("--repeat", type=int, default=None, help="repeats (median reported)")
    parser.add_argument("--json", default=None, help="append the rows to this JSON-lines file")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    return args


def machine() -> dict[str, str]:
    """Where the figures come from."""
    return {
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def median(values: Sequence[float]) -> float:
    """The median of the repeats."""
    return statistics.median(values)


def rate(count: int, seconds: float) -> float:
    """Sends (or deliveries) per second."""
    return count / seconds if seconds > 0 else float("inf")


def fmt_rate(value: float, unit: str = "sends/s") -> str:
    """A rate with its unit."""
    return f"{value:,.0f} {unit}"


# -- the fake Graph API ----------------------------------------------------------------------


@contextlib.contextmanager
def fake_graph(latency: float, faults: Sequence[str] = ()) -> Iterator[Any]:
    """The fake Graph API in a subprocess (its own GIL), checking token and proof."""
    from _graph_process import FakeGraphProcess

    with FakeGraphProcess(
        latency=latency,
        faults=faults,
        page_id=PAGE_ID,
        access_token=ACCESS_TOKEN,
        app_secret=APP_SECRET,
        api_version=API_VERSION,
    ) as process:
        yield process


def delivery_count(fake: Any) -> int:
    """How many sends the fake has accepted so far."""
    return int(fake.state(since=10**12)["delivery_count"])


def server_rate(deliveries: Sequence[dict[str, Any]]) -> float:
    """Deliveries per second on the fake's own clock.

    From the first HTTP request's arrival to the last one's, counting the
    sends of every request but the last (for single sends: ``(n - 1) / span``;
    a batch of 50 counts as 50 sends that arrived together).
    """
    arrivals: dict[int, float] = {}
    sizes: dict[int, int] = {}
    for d in deliveries:
        number = d["request_number"]
        arrivals[number] = min(arrivals.get(number, d["time"]), d["time"])
        sizes[number] = sizes.get(number, 0) + 1
    if len(arrivals) < 2:
        return 0.0
    order = sorted(arrivals, key=arrivals.__getitem__)
    span = arrivals[order[-1]] - arrivals[order[0]]
    return (len(deliveries) - sizes[order[-1]]) / span


def page() -> Any:
    """The benchmark Page."""
    import fmc

    return fmc.Page(id=PAGE_ID, access_token=ACCESS_TOKEN, app_secret=APP_SECRET)


def client(url: str, **options: Any) -> Any:
    """An fmc Client for the fake at ``url``."""
    import fmc

    return fmc.Client(page(), base_url=url, api_version=API_VERSION, **options)


def messages_url(url: str) -> str:
    """The Send API URL with token and proof, as a bare client would build it."""
    proof = hmac.new(APP_SECRET.encode(), ACCESS_TOKEN.encode(), hashlib.sha256).hexdigest()
    return (
        f"{url}/{API_VERSION}/{PAGE_ID}/messages"
        f"?access_token={ACCESS_TOKEN}&appsecret_proof={proof}"
    )


def psid(number: int) -> str:
    """A made-up PSID, 16 digits like Meta's."""
    return str(7_000_000_000_000_000 + number)


def text_requests(count: int, start: int = 0) -> Iterator[Any]:
    """``count`` text sends to distinct people, built lazily."""
    from fmc.models import Recipient, SendRequest, Text

    for number in range(start, start + count):
        yield SendRequest(Recipient(id=psid(number)), Text(f"Breaking news, item {number}"))


def sliding_max(times: Sequence[float], window: float = 1.0) -> int:
    """The most events in any window of ``window`` seconds (half-open, sliding)."""
    ordered = sorted(times)
    best = 0
    first = 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Run ``fn``; return (wall seconds, process CPU seconds, its result)."""
    import time

    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def exit_with(report: Report) -> None:
    """Finish a script: print the table and exit non-zero if a target failed."""
    sys.exit(report.finish())
