"""``fmc subscribers``: list, count and export a Page's subscribers, streaming from the store.

Nothing here loads every subscriber: rows are written as the store's keyset
pages stream in. Notification tokens are credentials and are never written;
an export says how many usable tokens a person has and for which topics.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, TextIO

from fmc.cli.command import ExitCode, Streams, add_command
from fmc.cli.config import Config
from fmc.cli.context import open_store
from fmc.models import Subscriber, SubscriberStatus
from fmc.store import SQLiteStore

__all__ = ["EXPORT_FIELDS", "add_parsers", "export_row", "run_subscribers"]

#: The columns of ``list`` and ``export``, in order.
EXPORT_FIELDS = (
    "psid",
    "status",
    "name",
    "locale",
    "timezone",
    "first_seen_at",
    "last_interaction_at",
    "last_human_agent_at",
    "status_reason",
    "usable_tokens",
    "token_topics",
)


def _status(text: str) -> SubscriberStatus:
    try:
        return SubscriberStatus(text.strip().lower())
    except ValueError:
        valid = ", ".join(status.value for status in SubscriberStatus)
        raise argparse.ArgumentTypeError(
            f"unknown status {text!r}; expected one of {valid}"
        ) from None


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``subscribers`` (with ``list``, ``count``, ``export``) to the subparsers.

    Args:
        commands: The subparsers action of the ``fmc`` parser.
        common: The parser holding the options every command takes.
    """
    parser = add_command(
        commands,
        common,
        "subscribers",
        run_subscribers,
        help="list, count or export the Page's subscribers",
        description="List, count or export the Page's subscribers from the SQLite store. "
        "Streams: never loads every subscriber. Never writes notification tokens.",
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=("list", "count", "export"),
        default="list",
        help="list (a table, the default), count (per status) or export",
    )
    parser.add_argument(
        "--format", choices=("csv", "jsonl"), default="csv", help="export format [csv]"
    )
    parser.add_argument(
        "--status",
        type=_status,
        help="only subscribers with this status: "
        + ", ".join(status.value for status in SubscriberStatus),
    )


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value is not None else None


def export_row(subscriber: Subscriber, now: datetime) -> dict[str, Any]:
    """One subscriber as an export row, without any token value.

    Args:
        subscriber: The subscriber.
        now: The time tokens' usability is judged at.

    Returns:
        Column -> value, the columns of :data:`EXPORT_FIELDS`.
    """
    usable = [token for token in subscriber.tokens if token.is_usable(now)]
    topics = sorted({token.topic for token in usable if token.topic})
    return {
        "psid": subscriber.psid,
        "status": subscriber.status.value,
        "name": subscriber.name,
        "locale": subscriber.locale,
        "timezone": subscriber.timezone,
        "first_seen_at": _iso(subscriber.first_seen_at),
        "last_interaction_at": _iso(subscriber.last_interaction_at),
        "last_human_agent_at": _iso(subscriber.last_human_agent_at),
        "status_reason": subscriber.status_reason,
        "usable_tokens": len(usable),
        "token_topics": ",".join(topics),
    }


def _rows(
    store: SQLiteStore, page_id: str, status: SubscriberStatus | None
) -> Iterator[dict[str, Any]]:
    now = datetime.now(timezone.utc)
    for subscriber in store.iter_subscribers(page_id, status=status):
        yield export_row(subscriber, now)


def run_subscribers(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Run ``fmc subscribers``.

    The store is opened before anything is written, so a missing store is an
    error on its own, not a table header followed by an error.

    Args:
        args: The parsed arguments (``action``, ``format``, ``status``).
        config: The configuration (``page_id``, ``db``).
        streams: Where to write.

    Returns:
        The exit code.
    """
    config.require("page_id")
    assert config.page_id is not None
    with open_store(config, create=False) as store:
        if args.action == "count":
            _write_counts(store, config.page_id, args.status, streams.out)
        elif args.action == "export":
            _write_export(store, config.page_id, args.status, args.format, streams.out)
        else:
            _write_table(store, config.page_id, args.status, streams.out)
    return int(ExitCode.OK)


def _write_counts(
    store: SQLiteStore, page_id: str, status: SubscriberStatus | None, out: TextIO
) -> None:
    statuses = [status] if status else list(SubscriberStatus)
    counts = {s: store.count(page_id, status=s) for s in statuses}
    if status is None:
        out.write(f"total {sum(counts.values())}\n")
    for each, count in counts.items():
        out.write(f"{each.value} {count}\n")


def _write_export(
    store: SQLiteStore,
    page_id: str,
    status: SubscriberStatus | None,
    form: str,
    out: TextIO,
) -> None:
    if form == "jsonl":
        for row in _rows(store, page_id, status):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in _rows(store, page_id, status):
        writer.writerow(row)


def _write_table(
    store: SQLiteStore, page_id: str, status: SubscriberStatus | None, out: TextIO
) -> None:
    out.write(f"{'psid':<20} {'status':<11} {'last interaction':<20} {'tokens':<6} name\n")
    for row in _rows(store, page_id, status):
        last = row["last_interaction_at"]
        when = f"{last[:10]} {last[11:16]} UTC" if last else "-"
        out.write(
            f"{row['psid']:<20} {row['status']:<11} {when:<20} "
            f"{row['usable_tokens']:<6} {row['name'] or ''}\n"
        )
