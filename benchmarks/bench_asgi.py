"""The webhook under uvicorn with async callbacks, against a minimal HMAC + json.loads ASGI app.

Each run starts uvicorn (1 worker, no access log) on loopback serving one app,
and a load generator in another process (an aiohttp client loop, ``--connections``
requests in flight) POSTs distinct signed deliveries for ``--seconds``. The
baseline app checks the signature and parses the JSON, nothing else; fmc's is
``make_app(WebhookHandler)`` with an ``async def`` callback, so it takes the
event-loop path (only the commit in the executor). Ratios are per run, the
table shows their medians over ``--runs`` runs. Figures are printed, not asserted.

    python benchmarks/bench_asgi.py --runs 3 --seconds 3
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

APP_SECRET = "bench-app-secret"
VERIFY_TOKEN = "bench-verify-token"
PAGE_ID = "1234567890"


def bodies(count: int, events: int) -> list[bytes]:
    """Distinct deliveries of ``events`` text messages each (so dedup never skips them)."""
    out = []
    for n in range(count):
        messaging = [
            {
                "sender": {"id": f"2400000{n:06d}{e:03d}"},
                "recipient": {"id": PAGE_ID},
                "timestamp": 1764590000000 + e,
                "message": {"mid": f"m_bench_{n}_{e}", "text": "hello there"},
            }
            for e in range(events)
        ]
        entry = {"id": PAGE_ID, "time": 1764590000000, "messaging": messaging}
        out.append(json.dumps({"object": "page", "entry": [entry]}).encode())
    return out


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def baseline_app() -> Any:
    """The minimal ASGI webhook: read the body, check the HMAC, json.loads, answer 200."""
    secret = APP_SECRET.encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        given = dict(scope["headers"]).get(b"x-hub-signature-256", b"").decode()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        status = 403
        if hmac.compare_digest(given, expected):
            json.loads(body)
            status = 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"EVENT_RECEIVED"})

    return app


def fmc_app() -> Any:
    """fmc's ASGI adapter around a WebhookHandler with an async callback per message."""
    import fmc
    from fmc.adapters.asgi import make_app

    handler = fmc.WebhookHandler(APP_SECRET, VERIFY_TOKEN)
    seen = [0]

    @handler.on(fmc.MessageEvent)
    async def count(event: fmc.MessageEvent) -> None:
        seen[0] += 1

    return make_app(handler)


def serve(which: str, port: int) -> None:
    import uvicorn

    app = fmc_app() if which == "fmc" else baseline_app()
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, access_log=False, log_level="error")


async def load(
    port: int, payloads: list[bytes], seconds: float, connections: int
) -> dict[str, Any]:
    import aiohttp

    url = f"http://127.0.0.1:{port}/"
    prepared = [
        (b, {"X-Hub-Signature-256": signature(b), "Content-Type": "application/json"})
        for b in payloads
    ]
    latencies: list[float] = []
    errors = 0
    counter = iter(range(10**9))
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                body, headers = prepared[next(counter) % len(prepared)]
                start = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "errors": errors,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the server on port {port} did not start")


def measure(which: str, events: int, args: argparse.Namespace) -> dict[str, Any]:
    """One server process, one load-generator process; the load generator's figures."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - this script, fixed arguments
        [sys.executable, __file__, "--serve", which, "--port", str(port)]
    )
    try:
        wait_for(port)
        out = subprocess.run(  # noqa: S603 - this script, fixed arguments
            [
                sys.executable,
                __file__,
                "--load",
                str(port),
                "--events",
                str(events),
                "--seconds",
                str(args.seconds),
                "--connections",
                str(args.connections),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return dict(json.loads(out))
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--serve", choices=["fmc", "baseline"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--load", type=int, metavar="PORT")
    parser.add_argument("--events", type=int, default=1)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    if args.load:
        payloads = bodies(4000 if args.events == 1 else 200, args.events)
        figures = asyncio.run(load(args.load, payloads, args.seconds, args.connections))
        print(json.dumps(figures))
        return
    ratios: dict[str, list[float]] = {"rps 1": [], "p99 1": [], "rps 100": []}
    raw: list[str] = []
    for run in range(args.runs):
        base1, fmc1 = measure("baseline", 1, args), measure("fmc", 1, args)
        base100, fmc100 = measure("baseline", 100, args), measure("fmc", 100, args)
        for figures in (base1, fmc1, base100, fmc100):
            assert figures["errors"] == 0, figures
        ratios["rps 1"].append(fmc1["rps"] / base1["rps"])
        ratios["p99 1"].append(fmc1["p99_ms"] / base1["p99_ms"])
        ratios["rps 100"].append(fmc100["rps"] / base100["rps"])
        raw.append(
            f"run {run + 1}: 1-event baseline {base1['rps']:.0f} req/s"
            f" p99 {base1['p99_ms']:.1f} ms,"
            f" fmc {fmc1['rps']:.0f} req/s p99 {fmc1['p99_ms']:.1f} ms;"
            f" 100-event baseline {base100['rps']:.0f} req/s, fmc {fmc100['rps']:.0f} req/s"
        )
    print("\n".join(raw))
    print(f"{'target':<32}{'median ratio':>14}{'goal':>10}")
    for name, goal, ok in (
        ("throughput, 1-event deliveries", ">= 0.8", lambda r: r >= 0.8),
        ("p99 latency, 1-event deliveries", "<= 2.0", lambda r: r <= 2.0),
        ("throughput, 100-event deliveries", ">= 0.5", lambda r: r >= 0.5),
    ):
        key = {"t": "rps 1", "p": "p99 1"}[name[0]] if "100" not in name else "rps 100"
        median = statistics.median(ratios[key])
        print(f"{name:<34}{median:>12.2f}{goal:>10}  {'PASS' if ok(median) else 'FAIL'}")


if __name__ == "__main__":
    main()
