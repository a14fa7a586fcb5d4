"""The PostgreSQL schema of :class:`~fmc.store.PostgresStore`: migrations, SQL, rows as models.

PSIDs use the ``"C"`` collation, so keyset order is code point order whatever
the database's locale, the same order as the other stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from fmc.errors import StoreError
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import Subscriber, SubscriberStatus
from fmc.store._codec import tokens_from_data
from fmc.store._dialect import POSTGRES
from fmc.store._registry_sql import registry_migration

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "CHANGE_STATUS_FROM",
    "DEDUP_MARK",
    "INSERT_BARE",
    "MIGRATIONS",
    "OUTBOX_DUE",
    "RECORD_EVENTS",
    "SELECT_SUBSCRIBER",
    "SET_STATUS",
    "SET_STATUS_IF_NEWER",
    "SUBSCRIBERS_PAGE",
    "SUBSCRIBERS_PAGE_BY_STATUS",
    "UPDATE_PROFILE",
    "migrate",
    "outbox_item_from_row",
    "subscriber_from_row",
]

#: Serializes migrations of every fmc schema in one database (an arbitrary constant).
_MIGRATION_LOCK = 0x666D63

#: ``(version, statements)`` in order; a released migration is never edited, only appended.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE subscribers (
                page_id text NOT NULL,
                psid text COLLATE "C" NOT NULL,
                status text NOT NULL DEFAULT 'active',
                first_seen_at timestamptz,
                last_interaction_at timestamptz,
                last_human_agent_at timestamptz,
                name text,
                locale text,
                timezone double precision,
                tokens jsonb NOT NULL DEFAULT '[]',
                status_reason text,
                PRIMARY KEY (page_id, psid)
            )""",
            "CREATE INDEX subscribers_status ON subscribers (page_id, status, psid)",
            """CREATE TABLE dedup (
                key text PRIMARY KEY,
                seen_at timestamptz NOT NULL
            )""",
            "CREATE INDEX dedup_seen_at ON dedup (seen_at)",
            """CREATE TABLE outbox (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                url text NOT NULL,
                body bytea NOT NULL,
                headers jsonb NOT NULL,
                order_key text NOT NULL,
                created_at timestamptz NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz,
                last_error text
            )""",
            "CREATE INDEX outbox_order ON outbox (order_key, id)",
            """CREATE TABLE broadcasts (
                broadcast_id text PRIMARY KEY,
                page_id text NOT NULL,
                purpose text NOT NULL,
                message text NOT NULL,
                created_at timestamptz NOT NULL
            )""",
            """CREATE TABLE journal (
                broadcast_id text NOT NULL,
                psid text COLLATE "C" NOT NULL,
                state text NOT NULL,
                message_id text,
                detail text,
                updated_at timestamptz,
                PRIMARY KEY (broadcast_id, psid)
            )""",
            "CREATE INDEX journal_state ON journal (broadcast_id, state, psid)",
        ),
    ),
    # -- version 2: the webhook's newer-wins rule ------------------------------------
    # When the subscriber's status last changed, so a late or redelivered change
    # older than that is skipped. NULL: no change known.
    (
        2,
        ("ALTER TABLE subscribers ADD COLUMN status_at timestamptz",),
    ),
    # -- version 3: broadcast runs that own their claims, handoffs, fingerprints -----
    (3, POSTGRES.migration()),
    # -- version 4: the platform registry of apps and accounts (fmc.platform) -------
    (4, registry_migration(POSTGRES)),
    # -- version 5: the Click-to-Messenger ad's 7-day window --------------------------
    # When the person last wrote from an ad; NULL: never.
    (
        5,
        ("ALTER TABLE subscribers ADD COLUMN ad_referral_at timestamptz",),
    ),
)

_SELECT_SUBSCRIBERS = """
SELECT page_id, psid, status, first_seen_at, last_interaction_at, last_human_agent_at,
       name, locale, timezone, tokens, status_reason, ad_referral_at
FROM subscribers
"""
SELECT_SUBSCRIBER = _SELECT_SUBSCRIBERS + "WHERE page_id = %s AND psid = %s"
SUBSCRIBERS_PAGE = _SELECT_SUBSCRIBERS + "WHERE page_id = %s AND psid > %s ORDER BY psid LIMIT %s"
SUBSCRIBERS_PAGE_BY_STATUS = (
    _SELECT_SUBSCRIBERS + "WHERE page_id = %s AND psid > %s AND status = %s ORDER BY psid LIMIT %s"
)

# GREATEST and LEAST ignore NULLs in PostgreSQL, which is what "no value yet" needs.
RECORD_EVENTS = """
INSERT INTO subscribers AS s
    (page_id, psid, first_seen_at, last_interaction_at, last_human_agent_at, ad_referral_at)
SELECT * FROM unnest(
    %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[],
    %s::timestamptz[])
ON CONFLICT (page_id, psid) DO UPDATE SET
    first_seen_at = LEAST(s.first_seen_at, EXCLUDED.first_seen_at),
    last_interaction_at = GREATEST(s.last_interaction_at, EXCLUDED.last_interaction_at),
    last_human_agent_at = GREATEST(s.last_human_agent_at, EXCLUDED.last_human_agent_at),
    ad_referral_at = GREATEST(s.ad_referral_at, EXCLUDED.ad_referral_at)
"""

SET_STATUS = """
INSERT INTO subscribers AS s (page_id, psid, status, status_reason, first_seen_at, status_at)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (page_id, psid) DO UPDATE SET
    status = EXCLUDED.status,
    status_reason = EXCLUDED.status_reason,
    first_seen_at = coalesce(s.first_seen_at, EXCLUDED.first_seen_at),
    status_at = EXCLUDED.status_at
"""

# Newer wins: the same as SET_STATUS, skipped when the stored change is newer.
SET_STATUS_IF_NEWER = (
    SET_STATUS + "WHERE s.status_at IS NULL OR s.status_at <= EXCLUDED.status_at\n"
)

# Only from some statuses (an array), and only if newer.
CHANGE_STATUS_FROM = """
UPDATE subscribers SET status = %s, status_reason = %s, status_at = %s
WHERE page_id = %s AND psid = %s AND status = ANY(%s)
  AND (status_at IS NULL OR status_at <= %s)
"""

UPDATE_PROFILE = """
INSERT INTO subscribers AS s (page_id, psid, name, locale, timezone) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (page_id, psid) DO UPDATE SET
    name = coalesce(EXCLUDED.name, s.name),
    locale = coalesce(EXCLUDED.locale, s.locale),
    timezone = coalesce(EXCLUDED.timezone, s.timezone)
"""

DEDUP_MARK = """
INSERT INTO dedup AS d (key, seen_at) VALUES (%s, %s)
ON CONFLICT (key) DO UPDATE SET seen_at = EXCLUDED.seen_at WHERE d.seen_at <= %s
RETURNING 1
"""

OUTBOX_DUE = """
SELECT id, url, body, headers, order_key, created_at, attempts, next_attempt_at, last_error
FROM outbox
WHERE id IN (SELECT min(id) FROM outbox GROUP BY order_key)
  AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
ORDER BY id LIMIT %s
"""

INSERT_BARE = "INSERT INTO subscribers (page_id, psid) VALUES (%s, %s) ON CONFLICT DO NOTHING"


def migrate(conn: psycopg.Connection[Any], schema: str | None) -> int:
    """Bring the database (or ``schema`` in it) to the newest version, in one transaction.

    An advisory lock serializes processes migrating at the same time.

    Args:
        conn: An autocommit connection whose ``search_path`` starts with ``schema``.
        schema: The schema to create first, or ``None`` for the connection's default.

    Returns:
        The schema version the database now has.

    Raises:
        StoreError: the database was migrated by a newer fmc.
    """
    from psycopg import sql

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        if schema is not None:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = {int(row[0]) for row in conn.execute("SELECT version FROM schema_version")}
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
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
    return max(current, newest)


def _utc(value: datetime | None) -> datetime | None:
    # psycopg answers in the session's time zone; stores answer in UTC.
    return None if value is None else value.astimezone(timezone.utc)


def subscriber_from_row(row: Sequence[Any]) -> Subscriber:
    """Decode a row of the subscriber queries."""
    return Subscriber(
        page_id=row[0],
        psid=row[1],
        status=SubscriberStatus(row[2]),
        first_seen_at=_utc(row[3]),
        last_interaction_at=_utc(row[4]),
        last_human_agent_at=_utc(row[5]),
        name=row[6],
        locale=row[7],
        timezone=row[8],
        tokens=tokens_from_data(row[9]),
        status_reason=row[10],
        ad_referral_at=_utc(row[11]),
    )


def outbox_item_from_row(row: Sequence[Any]) -> OutboxItem:
    """Decode a row of :data:`OUTBOX_DUE`."""
    return OutboxItem(
        id=row[0],
        url=row[1],
        body=bytes(row[2]),
        headers=[(str(k), str(v)) for k, v in row[3]],
        order_key=row[4],
        created_at=row[5].astimezone(timezone.utc),
        attempts=row[6],
        next_attempt_at=_utc(row[7]),
        last_error=row[8],
    )
