"""Reading subscribers back from SQLite: the store's row decoder and ``iter_subscribers``.

Issue 14's profile of a 200k-subscriber broadcast spent 1.6 s of 13.5 s turning
rows into :class:`fmc.models.Subscriber`. Two figures, each against a baseline
measured in the same run:

* **decode**: the store's decoder on rows already fetched, against building
  each subscriber through its validating constructor (enum call,
  ``json.loads`` of the token list, keyword ``timedelta``), which is what
  decoding cost before the stores shared one decoder;
* **stream**: ``SQLiteStore.iter_subscribers`` over every subscriber of a Page,
  against a bare ``sqlite3`` connection running the same keyset queries
  without building models (the floor).

Run: ``python benchmarks/bench_store_decode.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import _common as c

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_PAGE_SIZE = 500


def _populate(store: Any, count: int) -> None:
    from fmc.store.base import EventRecord

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for first in range(0, count, 5_000):
        store.record_events(
            EventRecord(c.PAGE_ID, c.psid(n), start + timedelta(seconds=n), interaction=True)
            for n in range(first, min(first + 5_000, count))
        )


def _constructor_decoder() -> Callable[[Sequence[Any]], Any]:
    """The baseline: every value through the validating constructor, as decoding used to."""
    from fmc.models.subscriber import Subscriber, SubscriberStatus
    from fmc.store._codec import tokens_from_data

    def when(value: int | None) -> datetime | None:
        return None if value is None else _EPOCH + timedelta(microseconds=value)

    def decode(row: Sequence[Any]) -> Any:
        return Subscriber(
            page_id=row[0],
            psid=row[1],
            status=SubscriberStatus(row[2]),
            first_seen_at=when(row[3]),
            last_interaction_at=when(row[4]),
            last_human_agent_at=when(row[5]),
            name=row[6],
            locale=row[7],
            timezone=row[8],
            tokens=tokens_from_data(json.loads(row[9])),
            status_reason=row[10],
            ad_referral_at=when(row[11]),
        )

    return decode


def _store_decoder() -> Callable[[Sequence[Any]], Any]:
    try:
        from fmc.store._dialect import SQLITE
        from fmc.store._rows import subscriber_decoder
    except ImportError:  # the tree before the stores shared one decoder
        from fmc.store._sqlite_schema import subscriber_from_row

        return subscriber_from_row
    return subscriber_decoder(SQLITE)


_PAGE_QUERY = """
SELECT page_id, psid, status, first_seen_at, last_interaction_at, last_human_agent_at,
       name, locale, timezone, tokens, status_reason, ad_referral_at
FROM subscribers WHERE page_id = ? AND psid > ? ORDER BY psid LIMIT ?
"""


def _bare_pages(path: str) -> tuple[float, list[Any]]:
    """Seconds to fetch every row in keyset pages with a bare connection, and the rows."""
    conn = sqlite3.connect(path, isolation_level=None)
    rows: list[Any] = []
    started = time.perf_counter()
    after = ""
    while True:
        page = conn.execute(_PAGE_QUERY, (c.PAGE_ID, after, _PAGE_SIZE)).fetchall()
        rows.extend(page)
        if len(page) < _PAGE_SIZE:
            break
        after = page[-1][1]
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, rows


def _decode(decode: Callable[[Sequence[Any]], Any], rows: Sequence[Any]) -> float:
    started = time.perf_counter()
    for row in rows:
        decode(row)
    return time.perf_counter() - started


def _stream(store: Any, count: int) -> float:
    started = time.perf_counter()
    seen = sum(1 for _ in store.iter_subscribers(c.PAGE_ID, page_size=_PAGE_SIZE))
    elapsed = time.perf_counter() - started
    if seen != count:
        raise RuntimeError(f"iter_subscribers yielded {seen} of {count}")
    return elapsed


def main() -> None:
    """Measure decoding and streaming."""
    import fmc

    args = c.parse_args(__doc__ or "")
    report = c.Report("bench_store_decode (issue 14, store part)", args)
    count = 20_000 if args.quick else 200_000
    decoder = _store_decoder()
    baseline = _constructor_decoder()
    decode_s: list[float] = []
    constructor_s: list[float] = []
    stream_s: list[float] = []
    bare_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="fmc-bench-") as directory:
        path = os.path.join(directory, "decode.db")
        with fmc.SQLiteStore(path) as store:
            _populate(store, count)
            for round_ in range(args.repeat):
                bare, rows = _bare_pages(path)
                bare_s.append(bare)
                stream_s.append(_stream(store, count))
                constructor_s.append(_decode(baseline, rows))
                decode_s.append(_decode(decoder, rows))
                print(
                    f"  round {round_ + 1}: decode {decode_s[-1]:.3f} s, constructor "
                    f"{constructor_s[-1]:.3f} s, iter_subscribers {stream_s[-1]:.3f} s, "
                    f"bare pages {bare_s[-1]:.3f} s",
                    flush=True,
                )
    d, k = c.median(decode_s), c.median(constructor_s)
    s, b = c.median(stream_s), c.median(bare_s)
    note = (
        f"{count:,} subscribers of one Page (no tokens, as most), pages of {_PAGE_SIZE}, "
        f"median of {args.repeat}"
    )
    report.add(
        c.Row(
            "14s decode rows into Subscribers",
            f"{d / count * 1e6:.2f} us/row",
            f"{k / count * 1e6:.2f} us/row via the constructor",
            f"{k / d:.2f}x faster",
            ">= 1.5x",
            k / d >= 1.5,
            note,
            {"decode": d, "constructor": k, "count": count},
            aim=True,  # a loaded machine can hide it; read it with its baseline
        )
    )
    report.add(
        c.Row(
            "14s iter_subscribers (SQLite)",
            f"{s:.3f} s ({c.rate(count, s):,.0f}/s)",
            f"{b:.3f} s bare keyset fetch",
            f"{s / b:.2f}x bare",
            "shown",
            True,
            note,
            {"stream": s, "bare": b, "count": count},
            aim=True,
        )
    )
    c.exit_with(report)


if __name__ == "__main__":
    main()
