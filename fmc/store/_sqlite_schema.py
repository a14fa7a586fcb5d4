"""The SQLite tables of :class:`~fmc.store.SQLiteStore`: its migrations and how they are applied.

Datetimes are stored as integer microseconds since the Unix epoch (UTC), so
SQL ``min``/``max`` compare them exactly; tokens as a JSON array. The
statements that read and write the tables are shared with PostgreSQL
(:mod:`fmc.store._statements`).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from fmc.store._dialect import SQLITE
from fmc.store._registry_sql import registry_migration
from fmc.store._statements import migrations_to_apply

__all__ = ["MIGRATIONS", "migrate"]

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
    # -- version 6: no state index on the journal (SQLite only) ----------------------
    # SQLite keeps no statistics and plans every journal statement but the counts
    # by the primary key, so the index only made each state change (three per send:
    # claim, handoff, outcome) write a second b-tree: 12 % of a broadcast's rate.
    # Counting a million entries reads the table instead (47 ms -> 149 ms).
    # PostgreSQL plans recovery and shard claims with it and keeps it.
    (6, ("DROP INDEX IF EXISTS journal_state",)),
)


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
        for version, statements in migrations_to_apply(applied, MIGRATIONS):
            for statement in statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (version, applied_at),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return max(int(max(applied, default=0)), MIGRATIONS[-1][0])
