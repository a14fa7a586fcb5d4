"""How :class:`~fmc.store.PostgresStore` commits a webhook delivery in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fmc.models.outbox import OutboxItem
from fmc.store import _effects as rules
from fmc.store import _postgres_schema as sql
from fmc.store._codec import utc
from fmc.store.delivery import DeliveryResult, DeliveryWrite, StatusChange

__all__ = ["OUTBOX_INSERT", "outbox_params", "transaction"]

OUTBOX_INSERT = (
    "INSERT INTO outbox (url, body, headers, order_key, created_at, attempts, "
    "next_attempt_at, last_error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)


def outbox_params(item: OutboxItem, jsonb: Callable[[Any], Any]) -> tuple[Any, ...]:
    """The parameters of :data:`OUTBOX_INSERT`."""
    next_at = item.next_attempt_at
    return (
        item.url,
        bytes(item.body),
        jsonb([list(pair) for pair in item.headers]),
        item.order_key,
        utc(item.created_at, "created_at"),
        item.attempts,
        None if next_at is None else utc(next_at, "next_attempt_at"),
        item.last_error,
    )


def _change_status(conn: Any, change: StatusChange) -> None:
    at = utc(change.at, "at")
    status = change.status.value
    if change.only_from is None:
        params = (change.page_id, change.psid, status, change.reason, at, at)
        conn.execute(sql.SET_STATUS_IF_NEWER, params)
    elif change.only_from:
        states = sorted(s.value for s in change.only_from)
        params2 = (status, change.reason, at, change.page_id, change.psid, states, at)
        conn.execute(sql.CHANGE_STATUS_FROM, params2)


def _change_tokens(
    conn: Any, write: DeliveryWrite, fresh: tuple[bool, ...], jsonb: Callable[[Any], Any]
) -> None:
    chosen = rules.fresh_effects(write, fresh)
    for (page_id, psid), changes in rules.token_groups(chosen).items():
        conn.execute(sql.INSERT_BARE, (page_id, psid))
        row = conn.execute(
            "SELECT tokens FROM subscribers WHERE page_id = %s AND psid = %s FOR UPDATE",
            (page_id, psid),
        ).fetchone()
        data: list[dict[str, Any]] = list(row[0]) if row is not None else []
        for change in changes:
            applied = rules.apply_token_change(data, change)
            if applied is not None:
                data = applied
        conn.execute(
            "UPDATE subscribers SET tokens = %s WHERE page_id = %s AND psid = %s",
            (jsonb(data), page_id, psid),
        )


def transaction(
    write: DeliveryWrite, *, purge: bool, jsonb: Callable[[Any], Any]
) -> Callable[[Any], DeliveryResult]:
    """The body of the delivery's transaction (run again whole after a deadlock).

    Args:
        write: The delivery.
        purge: Also forget dedup marks older than the window.
        jsonb: psycopg's ``Jsonb`` wrapper.

    Raises:
        ValueError: a naive datetime, before any transaction starts.
    """
    rules.check_write(write)
    now = utc(write.now, "now")
    cutoff = now - write.window
    outbox = None if write.outbox is None else outbox_params(write.outbox, jsonb)

    def apply(conn: Any) -> DeliveryResult:
        fresh = tuple(
            key is None or conn.execute(sql.DEDUP_MARK, (key, now, cutoff)).fetchone() is not None
            for key in write.keys
        )
        chosen = rules.fresh_effects(write, fresh)
        merged = rules.merged_records(chosen)
        if merged:
            params = (
                [e.page_id for e in merged],
                [e.psid for e in merged],
                [e.first_at for e in merged],
                [e.interaction_at for e in merged],
                [e.human_agent_at for e in merged],
                [e.ad_referral_at for e in merged],
            )
            conn.execute(sql.RECORD_EVENTS, params)
        for change in rules.status_changes(chosen):
            _change_status(conn, change)
        _change_tokens(conn, write, fresh, jsonb)
        outbox_id = None
        if outbox is not None and rules.wants_outbox(write, fresh):
            outbox_id = int(conn.execute(OUTBOX_INSERT, outbox).fetchone()[0])
        if purge:
            conn.execute("DELETE FROM dedup WHERE seen_at <= %s", (cutoff,))
        return DeliveryResult(fresh, outbox_id)

    return apply
