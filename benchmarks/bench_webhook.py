"""Target 5: ``WebhookHandler.respond`` against the hashing-and-parsing floor.

A typical delivery is one text message from one person, about 500 bytes,
signed like Meta signs it, with the headers a web server passes on. Each
delivery is distinct (its own person, ``mid`` and signature), so the handler's
dedup does real work. The baseline, in the same run over the same bytes, is a
bare loop of ``hmac.new(secret, body, sha256).hexdigest()``,
``hmac.compare_digest`` and ``json.loads``. One thread (one core).

Then a delivery of 1,000 events (Meta batches up to about 1,000) goes through
``respond`` on a fresh handler; its median time is reported.

Run: ``python benchmarks/bench_webhook.py [--quick]``.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import time
from typing import Any

import _common as c

TEXT = (
    "Hi! Is the store on Main Street open this Sunday, and until what time? I would like to "
    "pick up the order I placed on your website yesterday evening (number 48213), and I "
    "would rather not come for nothing. Thanks a lot!"
)


def _mid(number: int) -> str:
    # Meta's message ids are long opaque base64-ish strings.
    return "m_" + hashlib.sha256(str(number).encode()).hexdigest()[:86]


def _headers(body: bytes, signature: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("Host", "bot.example.com"),
        ("User-Agent", "facebookexternalua"),
        ("Content-Length", str(len(body))),
        ("Accept", "*/*"),
        ("Accept-Encoding", "deflate, gzip"),
        ("Content-Type", "application/json"),
        ("X-Hub-Signature", signature["X-Hub-Signature"]),
        ("X-Hub-Signature-256", signature["X-Hub-Signature-256"]),
        ("X-Forwarded-For", "173.252.127.1"),
    ]


def _deliveries(count: int) -> list[tuple[bytes, list[tuple[str, str]]]]:
    from fmc.testing import message_event, signed_delivery

    made = []
    for number in range(count):
        event = message_event(
            c.psid(number), TEXT, page_id=c.PAGE_ID, mid=_mid(number), timestamp=1_700_000_000_000
        )
        body, signature = signed_delivery(
            event, c.APP_SECRET, page_id=c.PAGE_ID, time=1_700_000_000_100 + number
        )
        made.append((body, _headers(body, signature)))
    return made


def _handler() -> Any:
    from fmc.webhook import WebhookHandler

    return WebhookHandler(c.APP_SECRET, c.VERIFY_TOKEN)


def _fmc_rate(deliveries: list[tuple[bytes, list[tuple[str, str]]]]) -> float:
    handler = _handler()
    respond = handler.respond
    query: dict[str, str] = {}
    gc.collect()
    started = time.perf_counter()
    for body, headers in deliveries:
        response = respond("POST", query, headers, body)
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"respond answered {response.status}")
    return c.rate(len(deliveries), elapsed)


def _bare_rate(deliveries: list[tuple[bytes, list[tuple[str, str]]]]) -> float:
    key = c.APP_SECRET.encode()
    sha256 = hashlib.sha256
    new, compare, loads = hmac.new, hmac.compare_digest, json.loads
    signed = [(body, dict(headers)["X-Hub-Signature-256"]) for body, headers in deliveries]
    gc.collect()
    started = time.perf_counter()
    for body, signature in signed:
        if not compare("sha256=" + new(key, body, sha256).hexdigest(), signature):
            raise RuntimeError("bad signature")
        loads(body)
    elapsed = time.perf_counter() - started
    return c.rate(len(deliveries), elapsed)


def _big_delivery_ms(events: int, repeat: int) -> tuple[float, int]:
    from fmc.testing import message_event, signed_delivery

    body, signature = signed_delivery(
        [
            message_event(c.psid(n), TEXT, page_id=c.PAGE_ID, mid=_mid(n), timestamp=1_700_000_000)
            for n in range(events)
        ],
        c.APP_SECRET,
        page_id=c.PAGE_ID,
    )
    headers = _headers(body, signature)
    times = []
    for _ in range(repeat):
        handler = _handler()
        started = time.perf_counter()
        response = handler.respond("POST", {}, headers, body)
        times.append(time.perf_counter() - started)
        if response.status != 200:
            raise RuntimeError(f"respond answered {response.status}")
    return c.median(times) * 1000, len(body)


def main() -> None:
    """Run target 5."""
    args = c.parse_args(__doc__ or "")
    report = c.Report("bench_webhook (target 5)", args)
    count = 20_000 if args.quick else 100_000
    deliveries = _deliveries(count)
    size = c.median([len(body) for body, _ in deliveries])
    fmc_rates: list[float] = []
    bare_rates: list[float] = []
    for round_ in range(max(3, args.repeat)):
        fmc_rates.append(_fmc_rate(deliveries))
        bare_rates.append(_bare_rate(deliveries))
        print(
            f"  round {round_ + 1}: respond {fmc_rates[-1]:,.0f}/s, "
            f"bare hmac+json {bare_rates[-1]:,.0f}/s",
            flush=True,
        )
    f, b = c.median(fmc_rates), c.median(bare_rates)
    note = (
        f"{count:,} distinct signed deliveries of {size:.0f} bytes, one thread, "
        f"median of {len(fmc_rates)}"
    )
    report.add(
        c.Row(
            "5a respond() deliveries/s",
            c.fmt_rate(f, "deliveries/s"),
            "70,000 deliveries/s (goal)",
            f"{f / 70_000:.2f}x",
            ">= 70,000/s",
            f >= 70_000,
            note,
            {"respond": f},
        )
    )
    report.add(
        c.Row(
            "5b respond() vs bare hmac + json.loads",
            c.fmt_rate(f, "deliveries/s"),
            c.fmt_rate(b, "deliveries/s"),
            f"{f / b:.2f}",
            ">= 0.33",
            f / b >= 1 / 3,
            "bare loop: hmac sha256 hexdigest, compare_digest, json.loads on the same bytes",
            {"respond": f, "bare": b},
        )
    )
    ms, big = _big_delivery_ms(1_000, 5 if args.quick else 15)
    report.add(
        c.Row(
            "5c 1,000-event delivery through respond()",
            f"{ms:.1f} ms",
            "20 ms (goal)",
            f"{ms / 20:.2f}x",
            "<= 20 ms",
            ms <= 20,
            f"{big:,} bytes, fresh handler each time, median of {5 if args.quick else 15}",
            {"ms": ms},
        )
    )
    c.exit_with(report)


if __name__ == "__main__":
    main()
