"""Issue 11: the one transport pipeline, sync and async, against bare HTTP loops.

Measures, in the same run and against the same subprocess fake Graph API:

* 11a ``Client.send_many(concurrency=64)`` at 0 ms latency vs a bare
  ``requests.Session`` + ``ThreadPoolExecutor(64)`` posting the same prebuilt
  JSON bodies (rate and client CPU per send);
* 11b ``AsyncClient.send_many`` (256 in flight, unbatched) at 50 ms vs a bare
  aiohttp loop with the same in-flight bound (rate and client CPU per send);
* 11c batch mode (``batch_size=50``), sync and async, 64 batch requests in
  flight, at 50 ms vs the fake server's own ceiling for batches, measured with
  a raw aiohttp loop posting prebuilt batch forms with 64 in flight.

Client CPU is the benchmark process's CPU time (the fake runs in its own
process). Run: ``python benchmarks/bench_pipeline.py [--quick] [--repeat N]``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import _common as c
import requests
from requests.adapters import HTTPAdapter

THREADS = 64
IN_FLIGHT = 256
BATCH = 50
BATCHES_IN_FLIGHT = 64


def _bodies(count: int, start: int) -> list[bytes]:
    from fmc.convert import send_request_to_wire

    return [
        json.dumps(send_request_to_wire(r), separators=(",", ":")).encode()
        for r in c.text_requests(count, start)
    ]


def _check(outcomes: Sequence[Any], count: int, what: str) -> None:
    failed = [o.error for o in outcomes if not o.ok]
    if failed or len(outcomes) != count:
        raise RuntimeError(f"{what}: {len(failed)} of {count} failed, first {failed[:1]!r}")


# -- 11a: sync --------------------------------------------------------------------------------


def sync_many(
    url: str, count: int, start: int, batch_size: int | None = None
) -> tuple[float, float]:
    """fmc.Client.send_many: (sends/s, CPU seconds per send)."""
    with c.client(url, concurrency=THREADS) as client:
        list(client.send_many(c.text_requests(THREADS * 2, start + 10**8), batch_size=batch_size))
        wall, cpu, outcomes = c.timed(
            lambda: list(client.send_many(c.text_requests(count, start), batch_size=batch_size))
        )
    _check(outcomes, count, "Client.send_many")
    return c.rate(count, wall), cpu / count


def bare_requests(url: str, count: int, start: int) -> tuple[float, float]:
    """A bare requests.Session + 64 threads: (sends/s, CPU seconds per send)."""
    bodies = _bodies(count, start)
    target = c.messages_url(url)
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=THREADS))
    headers = {"Content-Type": "application/json"}

    def post(body: bytes) -> int:
        return session.post(target, data=body, headers=headers, timeout=(3.05, 20.0)).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(post, bodies[: THREADS * 2]))
        wall, cpu, statuses = c.timed(lambda: list(pool.map(post, bodies)))
    session.close()
    if set(statuses) != {200}:
        raise RuntimeError(f"bare pool got statuses {sorted(set(statuses))}")
    return c.rate(count, wall), cpu / count


# -- 11b: async -------------------------------------------------------------------------------


def async_many(
    url: str, count: int, start: int, batch_size: int | None = None, in_flight: int = IN_FLIGHT
) -> tuple[float, float]:
    """fmc.AsyncClient.send_many: (sends/s, CPU seconds per send)."""
    import fmc

    async def run() -> list[Any]:
        async with fmc.AsyncClient(
            c.page(), base_url=url, api_version=c.API_VERSION, concurrency=in_flight
        ) as client:
            warm = c.text_requests(IN_FLIGHT, start + 10**8)
            [o async for o in client.send_many(warm, batch_size=batch_size)]
            timed = client.send_many(c.text_requests(count, start), batch_size=batch_size)
            return [o async for o in timed]

    wall, cpu, outcomes = c.timed(lambda: asyncio.run(run()))
    _check(outcomes, count, "AsyncClient.send_many")
    return c.rate(count, wall), cpu / count


def _aiohttp_loop(
    target: str, payloads: list[bytes], limit: int, content_type: str
) -> Callable[[], list[int]]:
    import aiohttp

    async def run() -> list[int]:
        connector = aiohttp.TCPConnector(limit=limit)
        async with aiohttp.ClientSession(connector=connector) as session:
            gate = asyncio.Semaphore(limit)
            headers = {"Content-Type": content_type}

            async def post(body: bytes) -> int:
                async with gate, session.post(target, data=body, headers=headers) as response:
                    await response.read()
                    return response.status

            return list(await asyncio.gather(*(post(body) for body in payloads)))

    return lambda: asyncio.run(run())


def bare_aiohttp(url: str, count: int, start: int) -> tuple[float, float]:
    """A bare aiohttp loop, 256 in flight: (sends/s, CPU seconds per send)."""
    target = c.messages_url(url)
    _aiohttp_loop(target, _bodies(IN_FLIGHT, start + 10**8), IN_FLIGHT, "application/json")()
    loop = _aiohttp_loop(target, _bodies(count, start), IN_FLIGHT, "application/json")
    wall, cpu, statuses = c.timed(loop)
    if set(statuses) != {200}:
        raise RuntimeError(f"bare aiohttp got statuses {sorted(set(statuses))}")
    return c.rate(count, wall), cpu / count


# -- 11c: batch ceiling -------------------------------------------------------------------------


def _batch_forms(count: int, start: int) -> list[bytes]:
    import hashlib
    import hmac

    from fmc.convert import send_request_to_wire
    from fmc.transport.batch import BatchCall, encode_batch_form, encode_form_body

    proof = hmac.new(c.APP_SECRET.encode(), c.ACCESS_TOKEN.encode(), hashlib.sha256).hexdigest()
    requests_ = list(c.text_requests(count, start))
    forms = []
    for i in range(0, count, BATCH):
        calls = [
            BatchCall("POST", f"{c.PAGE_ID}/messages", encode_form_body(send_request_to_wire(r)))
            for r in requests_[i : i + BATCH]
        ]
        form = encode_batch_form(calls, access_token=c.ACCESS_TOKEN, appsecret_proof=proof)
        forms.append(urlencode(form).encode())
    return forms


def batch_ceiling(url: str, count: int, start: int) -> float:
    """The fake's own ceiling for batches of 50 (sends/s), from a raw aiohttp loop."""
    target = f"{url}/{c.API_VERSION}/"
    form = "application/x-www-form-urlencoded"
    loop = _aiohttp_loop(target, _batch_forms(count, start), BATCHES_IN_FLIGHT, form)
    wall, _, statuses = c.timed(loop)
    if set(statuses) != {200}:
        raise RuntimeError(f"raw batch loop got statuses {sorted(set(statuses))}")
    return c.rate(count, wall)


def main() -> None:
    """Run the issue 11 targets."""
    args = c.parse_args(__doc__ or "")
    report = c.Report("bench_pipeline (issue 11)", args)
    count = 2_000 if args.quick else 6_000
    batch_count = 5_000 if args.quick else 20_000
    figures: dict[str, list[float]] = {}

    def keep(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    with c.fake_graph(0.0) as fake:
        for round_ in range(args.repeat):
            offset = round_ * 10**6
            rate, cpu = sync_many(fake.url, count, offset)
            keep("sync", rate), keep("sync_cpu", cpu)
            rate, cpu = bare_requests(fake.url, count, offset + 200_000)
            keep("bare", rate), keep("bare_cpu", cpu)
            print(
                f"  round {round_ + 1} (0 ms): fmc {figures['sync'][-1]:,.0f}/s "
                f"{figures['sync_cpu'][-1] * 1e6:.0f} us, bare {figures['bare'][-1]:,.0f}/s "
                f"{figures['bare_cpu'][-1] * 1e6:.0f} us",
                flush=True,
            )
    with c.fake_graph(0.05) as fake:
        for round_ in range(args.repeat):
            offset = 10**7 + round_ * 10**6
            rate, cpu = async_many(fake.url, count, offset)
            keep("async", rate), keep("async_cpu", cpu)
            rate, cpu = bare_aiohttp(fake.url, count, offset + 200_000)
            keep("aio", rate), keep("aio_cpu", cpu)
            keep("ceiling", batch_ceiling(fake.url, batch_count, offset + 400_000))
            keep("sync_batch", sync_many(fake.url, batch_count, offset + 500_000, BATCH)[0])
            keep(
                "async_batch",
                async_many(fake.url, batch_count, offset + 600_000, BATCH, BATCHES_IN_FLIGHT)[0],
            )
            print(
                f"  round {round_ + 1} (50 ms): async {figures['async'][-1]:,.0f}/s "
                f"{figures['async_cpu'][-1] * 1e6:.0f} us, aiohttp {figures['aio'][-1]:,.0f}/s "
                f"{figures['aio_cpu'][-1] * 1e6:.0f} us; batches: ceiling "
                f"{figures['ceiling'][-1]:,.0f}/s, sync {figures['sync_batch'][-1]:,.0f}/s, "
                f"async {figures['async_batch'][-1]:,.0f}/s",
                flush=True,
            )
    m = {name: c.median(values) for name, values in figures.items()}
    reps = f"median of {args.repeat}"
    report.add(
        c.Row(
            "11a Client.send_many(64) vs bare requests pool(64), 0 ms: rate",
            c.fmt_rate(m["sync"]),
            c.fmt_rate(m["bare"]),
            f"{m['sync'] / m['bare']:.2f}x",
            ">= 1.2x",
            m["sync"] / m["bare"] >= 1.2,
            f"{count} texts, {reps}",
            {},
        )
    )
    report.add(
        c.Row(
            "11a Client.send_many(64) vs bare requests pool(64), 0 ms: CPU/send",
            f"{m['sync_cpu'] * 1e6:.0f} us",
            f"{m['bare_cpu'] * 1e6:.0f} us",
            f"{m['sync_cpu'] / m['bare_cpu']:.2f}x",
            "<= 0.85x",
            m["sync_cpu"] / m["bare_cpu"] <= 0.85,
            "client process CPU time / sends",
            {},
        )
    )
    report.add(
        c.Row(
            "11b AsyncClient.send_many(256) vs bare aiohttp(256), 50 ms: rate",
            c.fmt_rate(m["async"]),
            c.fmt_rate(m["aio"]),
            f"{m['async'] / m['aio']:.2f}x",
            ">= 0.8x",
            m["async"] / m["aio"] >= 0.8,
            f"{count} texts, unbatched, {reps}",
            {},
        )
    )
    report.add(
        c.Row(
            "11b AsyncClient.send_many(256) vs bare aiohttp(256), 50 ms: CPU/send",
            f"{m['async_cpu'] * 1e6:.0f} us",
            f"{m['aio_cpu'] * 1e6:.0f} us",
            f"{m['async_cpu'] / m['aio_cpu']:.2f}x",
            "<= 2x",
            m["async_cpu"] / m["aio_cpu"] <= 2.0,
            "client process CPU time / sends",
            {},
        )
    )
    for name, label in (("sync_batch", "Client"), ("async_batch", "AsyncClient")):
        report.add(
            c.Row(
                f"11c {label}.send_many(batch_size=50) vs the fake's batch ceiling, 50 ms",
                c.fmt_rate(m[name]),
                c.fmt_rate(m["ceiling"]),
                f"{m[name] / m['ceiling']:.2f}x",
                ">= 0.9x",
                m[name] / m["ceiling"] >= 0.9,
                f"{batch_count} texts; ceiling: raw aiohttp posting prebuilt batch forms, "
                f"{BATCHES_IN_FLIGHT} in flight; {reps}",
                {},
            )
        )
    c.exit_with(report)


if __name__ == "__main__":
    main()
