"""Target 1: unthrottled client throughput against the fake Graph API at 50 ms.

Measures, in the same run and against the same subprocess fake:

* ``client.send_many(..., concurrency=64)`` of text messages;
* a sequential loop of ``client.send`` (on fewer messages; rates are compared);
* a bare ``requests.Session`` + ``ThreadPoolExecutor(64)`` posting the same
  JSON bodies, prebuilt, to the same URL (token and appsecret_proof included);
* the client's default concurrency, unthrottled and with ``rate_limit=300``,
  at 100 ms: it must keep Meta's 300 text sends/s going.

Run: ``python benchmarks/bench_send.py [--quick]``.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import _common as c
import requests
from requests.adapters import HTTPAdapter

LATENCY = 0.05
WORKERS = 64


def _fmc_many(url: str, count: int, offset: int) -> tuple[float, float]:
    with c.client(url, concurrency=WORKERS) as client:
        list(client.send_many(c.text_requests(WORKERS * 2, start=10**9), concurrency=WORKERS))
        wall, cpu, outcomes = c.timed(
            lambda: list(client.send_many(c.text_requests(count, offset), concurrency=WORKERS))
        )
    failed = [o.error for o in outcomes if not o.ok]
    if failed or len(outcomes) != count:
        raise RuntimeError(f"send_many: {len(failed)} failed, first {failed[:1]!r}")
    return c.rate(count, wall), cpu / count


def _sequential(url: str, count: int, offset: int) -> float:
    with c.client(url) as client:
        requests_ = list(c.text_requests(count, offset))
        client.send_request(requests_[0])

        def loop() -> None:
            for request in requests_[1:]:
                client.send(request.recipient, request.message)

        wall, _, _ = c.timed(loop)
    return c.rate(count - 1, wall)


def _bare(url: str, count: int, offset: int) -> tuple[float, float]:
    from fmc.convert import send_request_to_wire

    bodies = [
        json.dumps(send_request_to_wire(r), separators=(",", ":")).encode()
        for r in c.text_requests(count, offset)
    ]
    target = c.messages_url(url)
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=WORKERS))
    headers = {"Content-Type": "application/json"}

    def post(body: bytes) -> int:
        return session.post(target, data=body, headers=headers, timeout=(3.05, 20.0)).status_code

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(post, bodies[: WORKERS * 2]))
        wall, cpu, statuses = c.timed(lambda: list(pool.map(post, bodies)))
    session.close()
    if set(statuses) != {200}:
        raise RuntimeError(f"bare pool got statuses {sorted(set(statuses))}")
    return c.rate(count, wall), cpu / count


def _default_concurrency(fake: Any, count: int, rate_limit: float | None) -> float:
    """The rate on the fake's clock, so the last answers' latency is not counted."""
    with c.client(fake.url, rate_limit=rate_limit) as client:
        list(client.send_many(c.text_requests(50, start=2 * 10**9)))
        before = c.delivery_count(fake)
        outcomes = list(client.send_many(c.text_requests(count, start=3 * 10**9)))
    if not all(o.ok for o in outcomes):
        raise RuntimeError("default-concurrency run had failures")
    return c.server_rate(fake.deliveries(since=before))


def main() -> None:
    """Run target 1."""
    args = c.parse_args(__doc__ or "")
    report = c.Report("bench_send (target 1)", args)
    count = 1_000 if args.quick else 5_000
    seq_count = 40 if args.quick else 100
    many: list[float] = []
    bare: list[float] = []
    seq: list[float] = []
    cpu_many: list[float] = []
    cpu_bare: list[float] = []
    with c.fake_graph(LATENCY) as fake:
        for round_ in range(args.repeat):
            offset = round_ * 100_000
            rate, cpu = _fmc_many(fake.url, count, offset)
            many.append(rate)
            cpu_many.append(cpu)
            rate, cpu = _bare(fake.url, count, offset + 50_000)
            bare.append(rate)
            cpu_bare.append(cpu)
            seq.append(_sequential(fake.url, seq_count, offset + 90_000))
            print(
                f"  round {round_ + 1}: send_many {many[-1]:,.0f}/s, bare {bare[-1]:,.0f}/s, "
                f"sequential {seq[-1]:,.1f}/s",
                flush=True,
            )
        state: dict[str, Any] = fake.state(since=10**9)
    m, b, s = c.median(many), c.median(bare), c.median(seq)
    note = (
        f"{count} texts at {LATENCY * 1000:.0f} ms, median of {args.repeat}; "
        f"sequential loop over {seq_count}; client CPU/send {c.median(cpu_many) * 1e6:.0f} us "
        f"(bare {c.median(cpu_bare) * 1e6:.0f} us); fake saw {state['http_requests']} requests"
    )
    report.add(
        c.Row(
            "1a send_many(64) vs sequential send",
            c.fmt_rate(m),
            c.fmt_rate(s),
            f"{m / s:.1f}x",
            ">= 50x",
            m / s >= 50,
            note,
            {"send_many": m, "sequential": s},
        )
    )
    report.add(
        c.Row(
            "1b send_many(64) vs bare requests pool(64)",
            c.fmt_rate(m),
            c.fmt_rate(b),
            f"{m / b:.0%}",
            ">= 85%",
            m / b >= 0.85,
            "same JSON bodies prebuilt for the bare pool, same URL with token and proof",
            {"send_many": m, "bare": b},
        )
    )
    small = 600 if args.quick else 1_500
    with c.fake_graph(0.1) as fake:
        free = c.median([_default_concurrency(fake, small, None) for _ in range(args.repeat)])
        limited = c.median([_default_concurrency(fake, small, 300.0) for _ in range(args.repeat)])
    from fmc.transport import DEFAULT_CONCURRENCY

    report.add(
        c.Row(
            f"1c default concurrency ({DEFAULT_CONCURRENCY}) at 100 ms, unthrottled",
            c.fmt_rate(free),
            "300 sends/s (Meta)",
            f"{free / 300:.2f}x",
            ">= 1.0x of 300/s",
            free >= 300,
            f"{small} texts, median of {args.repeat}; rate on the fake's clock",
            {"rate": free},
        )
    )
    report.add(
        c.Row(
            f"1d default concurrency ({DEFAULT_CONCURRENCY}) at 100 ms, rate_limit=300",
            c.fmt_rate(limited),
            "300 sends/s (Meta)",
            f"{limited / 300:.0%}",
            ">= 95% of 300/s",
            limited >= 0.95 * 300,
            f"{small} texts, median of {args.repeat}; rate on the fake's clock; "
            "the limiter keeps a 2% margin",
            {"rate": limited},
        )
    )
    c.exit_with(report)


if __name__ == "__main__":
    main()
