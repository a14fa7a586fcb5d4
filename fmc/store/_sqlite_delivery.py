"""How :class:`~fmc.store.SQLiteStore` commits a webhook delivery in one transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from fmc.models.outbox import OutboxItem
from fmc.store import _effects as rules
from fmc.store import _sqlite_schema as sql
from fmc.store._codec import MergedEvent, to_micros, utc
from fmc.store.delivery import DeliveryResult, DeliveryWrite, StatusChange

__all__ = ["outbox_params", "record_params", "save_tokens", "tokens", "transaction"]


def tokens(conn: sqlite3.Connection, page_id: str, psid: str) -> list[dict[str, Any]]:
    """A person's stored token dicts (with their newer-wins times), empty if unknown."""
    row = conn.execute(
        "SELECT tokens FROM subscribers WHERE page_id = ? AND psid = ?", (page_id, psid)
    ).fetchone()
    return [] if row is None else list(json.loads(row[0]))


def save_tokens(
    conn: sqlite3.Connection, page_id: str, psid: str, data: list[dict[str, Any]]
) -> None:
    """Store a person's token dicts, creating the subscriber if missing."""
    conn.execute(sql.UPSERT_TOKENS, (page_id, psid, json.dumps(data)))


def outbox_params(item: OutboxItem) -> tuple[Any, ...]:
    """The parameters of :data:`~fmc.store._sqlite_schema.OUTBOX_INSERT`."""
    return (
        item.url,
        bytes(item.body),
        json.dumps([list(pair) for pair in item.headers]),
        item.order_key,
        to_micros(item.created_at, "created_at"),
        item.attempts,
        None if item.next_attempt_at is None else to_micros(item.next_attempt_at),
        item.last_error,
    )


def record_params(e: MergedEvent) -> tuple[Any, ...]:
    """The parameters of :data:`~fmc.store._sqlite_schema.RECORD_EVENT`."""
    return (
        e.page_id,
        e.psid,
        to_micros(e.first_at),
        None if e.interaction_at is None else to_micros(e.interaction_at),
        None if e.human_agent_at is None else to_micros(e.human_agent_at),
        None if e.ad_referral_at is None else to_micros(e.ad_referral_at),
    )


def _change_status(conn: sqlite3.Connection, change: StatusChange) -> None:
    """Apply one status change, newer wins (see :class:`~fmc.store.delivery.StatusChange`)."""
    at = to_micros(change.at, "at")
    status = change.status.value
    if change.only_from is None:
        params = (change.page_id, change.psid, status, change.reason, at, at)
        conn.execute(sql.SET_STATUS_IF_NEWER, params)
        return
    states = sorted(s.value for s in change.only_from)
    if states:
        query = sql.CHANGE_STATUS_FROM.format(states=", ".join("?" * len(states)))
        conn.execute(query, (status, change.reason, at, change.page_id, change.psid, *states, at))


def _change_tokens(conn: sqlite3.Connection, write: DeliveryWrite, fresh: tuple[bool, ...]) -> None:
    chosen = rules.fresh_effects(write, fresh)
    for (page_id, psid), changes in rules.token_groups(chosen).items():
        data = tokens(conn, page_id, psid)
        changed = False
        for change in changes:
            applied = rules.apply_token_change(data, change)
            if applied is not None:
                data, changed = applied, True
        if changed:
            save_tokens(conn, page_id, psid, data)


def transaction(
    write: DeliveryWrite, *, purge: bool
) -> Callable[[sqlite3.Connection], DeliveryResult]:
    """The body of the delivery's write transaction (run again whole if SQLite is busy).

    Args:
        write: The delivery.
        purge: Also forget dedup marks older than the window.

    Raises:
        ValueError: a naive datetime, before any transaction starts.
    """
    rules.check_write(write)
    now_us = to_micros(write.now, "now")
    cutoff = to_micros(utc(write.now, "now") - write.window)
    outbox = None if write.outbox is None else outbox_params(write.outbox)

    def apply(conn: sqlite3.Connection) -> DeliveryResult:
        fresh = tuple(
            key is None or conn.execute(sql.DEDUP_MARK, (key, now_us, cutoff)).rowcount == 1
            for key in write.keys
        )
        chosen = rules.fresh_effects(write, fresh)
        records = [record_params(e) for e in rules.merged_records(chosen)]
        if records:
            conn.executemany(sql.RECORD_EVENT, records)
        for change in rules.status_changes(chosen):
            _change_status(conn, change)
        _change_tokens(conn, write, fresh)
        outbox_id = None
        if outbox is not None and rules.wants_outbox(write, fresh):
            outbox_id = int(conn.execute(sql.OUTBOX_INSERT, outbox).lastrowid or 0)
        if purge:
            conn.execute("DELETE FROM dedup WHERE seen_at <= ?", (cutoff,))
        return DeliveryResult(fresh, outbox_id)

    return apply
