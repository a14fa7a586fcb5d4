"""The SQLite schema of :class:`~fmc.store.SQLiteStore`: migrations, its SQL, its rows as models.

Datetimes are stored as integer microseconds since the Unix epoch (UTC), so
SQL ``min``/``max`` compare them exactly; tokens as a JSON array.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from fmc.errors import StoreError
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import Subscriber, SubscriberStatus
from fmc.store._codec import from_micros, tokens_from_data
from fmc.store._dialect import SQLITE
from fmc.store._registry_sql import registry_migration

__all__ = [
    "CHANGE_STATUS_FROM",
    "DEDUP_MARK",
    "MIGRATIONS",
    "OUTBOX_DUE",
    "OUTBOX_INSERT",
    "RECORD_EVENT",
    "SELECT_SUBSCRIBER",
    "SET_STATUS",
    "SET_STATUS_IF_NEWER",
    "SUBSCRIBERS_PAGE",
    "SUBSCRIBERS_PAGE_BY_STATUS",
    "UPDATE_PROFILE",
    "UPSERT_TOKENS",
    "migrate",
    "outbox_item_from_row",
    "subscriber_from_row",
]

#: ``(version, statements)`` in order; a released migration is never edited, only appended.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE subscribers (
                page_id TEXT NOT NULL,
                psid TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'active',
                first_seen_at INTEGER,
                last_interaction_at INTEGER,
                last_human_agent_at INTEGER,
                name TEXT,
                locale TEXT,
                timezone REAL,
                tokens TEXT NOT NULL DEFAULT '[]',
                status_reason TEXT,
                PRIMARY KEY (page_id, psid)
            ) WITHOUT ROWID""",
            "CREATE INDEX subscribers_status ON subscribers (page_id, status, psid)",
            """CREATE TABLE dedup (
                key TEXT PRIMARY KEY,
                seen_at INTEGER NOT NULL
            ) WITHOUT ROWID""",
            "CREATE INDEX dedup_seen_at ON dedup (seen_at)",
            """CREATE TABLE outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                url TEXT NOT NULL,
                body BLOB NOT NULL,
                headers TEXT NOT NULL,
                order_key TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER,
                last_error TEXT
            )""",
            "CREATE INDEX outbox_order ON outbox (order_key, id)",
            """CREATE TABLE broadcasts (
                broadcast_id TEXT PRIMARY KEY,
                page_id TEXT NOT NULL,
                purpose TEXT NOT NULL,
                message TEXT NOT NULL,
                created_at INTEGER NOT NULL
            ) WITHOUT ROWID""",
            """CREATE TABLE journal (
                broadcast_id TEXT NOT NULL,
                psid TEXT NOT NULL,
                state TEXT NOT NULL,
                message_id TEXT,
                detail TEXT,
                updated_at INTEGER,
                PRIMARY KEY (broadcast_id, psid)
            ) WITHOUT ROWID""",
            "CREATE INDEX journal_state ON journal (broadcast_id, state, psid)",
        ),
    ),
    # -- version 2: the webhook's newer-wins rule ------------------------------------
    # When the subscriber's status last changed (epoch microseconds), so a late
    # or redelivered change older than that is skipped. NULL: no change known.
    (
        2,
        ("ALTER TABLE subscribers ADD COLUMN status_at INTEGER",),
    ),
    # -- version 3: broadcast runs that own their claims, handoffs, fingerprints -----
    (3, SQLITE.migration()),
    # -- version 4: the platform registry of apps and accounts (fmc.platform) -------
    (4, registry_migration(SQLITE)),
    # -- version 5: the Click-to-Messenger ad's 7-day window --------------------------
    # When the person last wrote from an ad (epoch microseconds); NULL: never.
    (
        5,
        ("ALTER TABLE subscribers ADD COLUMN ad_referral_at INTEGER",),
    ),
)

_SELECT_SUBSCRIBERS = """
SELECT page_id, psid, status, first_seen_at, last_interaction_at, last_human_agent_at,
       name, locale, timezone, tokens, status_reason, ad_referral_at
FROM subscribers
"""
SELECT_SUBSCRIBER = _SELECT_SUBSCRIBERS + "WHERE page_id = ? AND psid = ?"
SUBSCRIBERS_PAGE = _SELECT_SUBSCRIBERS + "WHERE page_id = ? AND psid > ? ORDER BY psid LIMIT ?"
SUBSCRIBERS_PAGE_BY_STATUS = (
    _SELECT_SUBSCRIBERS + "WHERE page_id = ? AND psid > ? AND status = ? ORDER BY psid LIMIT ?"
)

# Scalar min/max return NULL when an argument is NULL; the coalesces make NULL mean "no value".
RECORD_EVENT = """
INSERT INTO subscribers
    (page_id, psid, first_seen_at, last_interaction_at, last_human_agent_at, ad_referral_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (page_id, psid) DO UPDATE SET
    first_seen_at = min(coalesce(first_seen_at, excluded.first_seen_at), excluded.first_seen_at),
    last_interaction_at = max(
        coalesce(last_interaction_at, excluded.last_interaction_at),
        coalesce(excluded.last_interaction_at, last_interaction_at)),
    last_human_agent_at = max(
        coalesce(last_human_agent_at, excluded.last_human_agent_at),
        coalesce(excluded.last_human_agent_at, last_human_agent_at)),
    ad_referral_at = max(
        coalesce(ad_referral_at, excluded.ad_referral_at),
        coalesce(excluded.ad_referral_at, ad_referral_at))
"""

SET_STATUS = """
INSERT INTO subscribers (page_id, psid, status, status_reason, first_seen_at, status_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (page_id, psid) DO UPDATE SET
    status = excluded.status,
    status_reason = excluded.status_reason,
    first_seen_at = coalesce(first_seen_at, excluded.first_seen_at),
    status_at = excluded.status_at
"""

# Newer wins: the same as SET_STATUS, skipped when the stored change is newer.
SET_STATUS_IF_NEWER = SET_STATUS + "WHERE status_at IS NULL OR status_at <= excluded.status_at\n"

# {states} becomes "?, ?, ...": only from these statuses, and only if newer.
CHANGE_STATUS_FROM = """
UPDATE subscribers SET status = ?, status_reason = ?, status_at = ?
WHERE page_id = ? AND psid = ? AND status IN ({states})
  AND (status_at IS NULL OR status_at <= ?)
"""

UPDATE_PROFILE = """
INSERT INTO subscribers (page_id, psid, name, locale, timezone) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (page_id, psid) DO UPDATE SET
    name = coalesce(excluded.name, name),
    locale = coalesce(excluded.locale, locale),
    timezone = coalesce(excluded.timezone, timezone)
"""

UPSERT_TOKENS = """
INSERT INTO subscribers (page_id, psid, tokens) VALUES (?, ?, ?)
ON CONFLICT (page_id, psid) DO UPDATE SET tokens = excluded.tokens
"""

DEDUP_MARK = """
INSERT INTO dedup (key, seen_at) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at WHERE seen_at <= ?
"""

OUTBOX_INSERT = """
INSERT INTO outbox (url, body, headers, order_key, created_at, attempts, next_attempt_at,
                    last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""

OUTBOX_DUE = """
SELECT id, url, body, headers, order_key, created_at, attempts, next_attempt_at, last_error
FROM outbox
WHERE id IN (SELECT min(id) FROM outbox GROUP BY order_key)
  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
ORDER BY id LIMIT ?
"""


# {states} and {psids} become "?, ?, ..." placeholders: values are always bound, never formatted.
def migrate(conn: sqlite3.Connection, *, now: datetime | None = None) -> int:
    """Bring a database to the newest schema version, in one write transaction.

    Safe when several processes open the same file at once: ``BEGIN IMMEDIATE``
    serializes them and the version is read inside the transaction.

    Args:
        conn: An autocommit connection (``isolation_level=None``).
        now: When the migration is applied (recorded in ``schema_version``).

    Returns:
        The schema version the database now has.

    Raises:
        StoreError: the file was written by a newer fmc, or is not a database.
    """
    applied_at = (now or datetime.now(timezone.utc)).isoformat()
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_version")}
        current = max(applied, default=0)
        newest = MIGRATIONS[-1][0]
        if current > newest:
            raise StoreError(
                f"the database has schema version {current}, newer than this fmc knows "
                f"({newest}); upgrade fmc"
            )
        # Every version not applied yet, in list order: a version merged late
        # (lower than one already applied) is still applied.
        for version, statements in MIGRATIONS:
            if version not in applied:
                _apply(conn, statements)
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    (version, applied_at),
                )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return max(int(current), newest)


def _apply(conn: sqlite3.Connection, statements: Sequence[str]) -> None:
    for statement in statements:
        conn.execute(statement)


def subscriber_from_row(row: tuple[Any, ...]) -> Subscriber:
    """Decode a row of the subscriber queries."""
    return Subscriber(
        page_id=row[0],
        psid=row[1],
        status=SubscriberStatus(row[2]),
        first_seen_at=from_micros(row[3]),
        last_interaction_at=from_micros(row[4]),
        last_human_agent_at=from_micros(row[5]),
        name=row[6],
        locale=row[7],
        timezone=row[8],
        tokens=tokens_from_data(json.loads(row[9])),
        status_reason=row[10],
        ad_referral_at=from_micros(row[11]),
    )


def outbox_item_from_row(row: tuple[Any, ...]) -> OutboxItem:
    """Decode a row of :data:`OUTBOX_DUE`."""
    return OutboxItem(
        id=row[0],
        url=row[1],
        body=bytes(row[2]),
        headers=[(str(k), str(v)) for k, v in json.loads(row[3])],
        order_key=row[4],
        created_at=_required(from_micros(row[5])),
        attempts=row[6],
        next_attempt_at=from_micros(row[7]),
        last_error=row[8],
    )


def _required(value: datetime | None) -> datetime:
    if value is None:
        raise StoreError("a required time is missing from the database")
    return value
