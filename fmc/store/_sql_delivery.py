"""How the SQL store commits a webhook delivery in one transaction, on either dialect."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fmc.models.outbox import OutboxItem
from fmc.store import _effects as rules
from fmc.store._codec import MergedEvent, utc
from fmc.store._dialect import Dialect
from fmc.store._statements import Statements, statements
from fmc.store.delivery import DeliveryResult, DeliveryWrite, StatusChange, TokenChange

__all__ = ["change_tokens", "outbox_params", "record_params", "transaction"]


def _opt_time(d: Dialect, value: Any) -> Any:
    return None if value is None else d.encode_time(value, "at")


def outbox_params(d: Dialect, item: OutboxItem) -> tuple[Any, ...]:
    """The parameters of the outbox ``INSERT``."""
    next_at = item.next_attempt_at
    return (
        item.url,
        bytes(item.body),
        d.encode_json([list(pair) for pair in item.headers]),
        item.order_key,
        d.encode_time(item.created_at, "created_at"),
        item.attempts,
        None if next_at is None else d.encode_time(next_at, "next_attempt_at"),
        item.last_error,
    )


def record_params(d: Dialect, merged: Sequence[MergedEvent]) -> Any:
    """The parameters of the batch upsert: one row per person, or one row of arrays."""
    rows = [
        (
            e.page_id,
            e.psid,
            d.encode_time(e.first_at, "at"),
            _opt_time(d, e.interaction_at),
            _opt_time(d, e.human_agent_at),
            _opt_time(d, e.ad_referral_at),
        )
        for e in merged
    ]
    return d.rows_params(rows) if d.unnest else rows


def record(conn: Any, d: Dialect, q: Statements, merged: Sequence[MergedEvent]) -> None:
    """Upsert the merged registrations (see :func:`~fmc.store._codec.merge_events`)."""
    if not merged:
        return
    if d.unnest:
        conn.execute(q.record_events, record_params(d, merged))
    else:
        conn.executemany(q.record_events, record_params(d, merged))


def change_tokens(
    conn: Any,
    d: Dialect,
    q: Statements,
    page_id: str,
    psid: str,
    change: Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None],
    *,
    create: bool,
) -> bool:
    """Change a person's token dicts inside the caller's transaction.

    Args:
        conn: The connection, in a write transaction.
        d: Its dialect.
        q: The dialect's statements.
        page_id: The Page.
        psid: The person.
        change: Gets the stored token dicts (with their newer-wins times, see
            ``_effects``), returns the new list or ``None`` for no change.
        create: Create the subscriber first if missing.

    Returns:
        Whether the tokens were written.
    """
    if create:
        conn.execute(q.insert_bare, (page_id, psid))
    row = conn.execute(q.select_tokens, (page_id, psid)).fetchone()
    tokens = None if row is None else change(list(d.decode_json(row[0])))
    if tokens is None:
        return False
    conn.execute(q.update_tokens, (d.encode_json(tokens), page_id, psid))
    return True


def _change_status(conn: Any, d: Dialect, q: Statements, change: StatusChange) -> None:
    """Apply one status change, newer wins (see :class:`~fmc.store.delivery.StatusChange`)."""
    at = d.encode_time(change.at, "at")
    status = change.status.value
    if change.only_from is None:
        params = (change.page_id, change.psid, status, change.reason, at, at)
        conn.execute(q.set_status_if_newer, params)
        return
    states = sorted(s.value for s in change.only_from)
    if states:
        query = q.change_status_from.format(states=d.marks(len(states)))
        conn.execute(query, (status, change.reason, at, change.page_id, change.psid, *states, at))


def _folded(
    changes: Sequence[TokenChange],
) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None]:
    """Apply a person's token changes in order, each newer wins; ``None`` if none applied."""

    def fold(data: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        changed = False
        for change in changes:
            applied = rules.apply_token_change(data, change)
            if applied is not None:
                data, changed = applied, True
        return data if changed else None

    return fold


def transaction(
    d: Dialect, write: DeliveryWrite, *, purge: bool
) -> Callable[[Any], DeliveryResult]:
    """The body of the delivery's write transaction (run again whole after a retryable error).

    Args:
        d: The dialect.
        write: The delivery.
        purge: Also forget dedup marks older than the window.

    Raises:
        ValueError: a naive datetime, before any transaction starts.
    """
    rules.check_write(write)
    q = statements(d)
    now = d.encode_time(write.now, "now")
    cutoff = d.encode_time(utc(write.now, "now") - write.window, "now")
    outbox = None if write.outbox is None else outbox_params(d, write.outbox)

    def apply(conn: Any) -> DeliveryResult:
        fresh = tuple(
            key is None or conn.execute(q.dedup_mark, (key, now, cutoff)).rowcount == 1
            for key in write.keys
        )
        chosen = rules.fresh_effects(write, fresh)
        record(conn, d, q, rules.merged_records(chosen))
        for change in rules.status_changes(chosen):
            _change_status(conn, d, q, change)
        for (page_id, psid), changes in rules.token_groups(chosen).items():
            change_tokens(conn, d, q, page_id, psid, _folded(changes), create=True)
        outbox_id = None
        if outbox is not None and rules.wants_outbox(write, fresh):
            outbox_id = d.insert_id(conn, q.outbox_insert, outbox)
        if purge:
            conn.execute(q.dedup_purge, (cutoff,))
        return DeliveryResult(fresh, outbox_id)

    return apply
