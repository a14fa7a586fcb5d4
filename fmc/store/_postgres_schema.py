"""The PostgreSQL tables of :class:`~fmc.store.PostgresStore`: migrations, and how to apply them.

PSIDs use the ``"C"`` collation, so keyset order is code point order whatever
the database's locale, the same order as the other stores. The statements
that read and write the tables are shared with SQLite
(:mod:`fmc.store._statements`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fmc.store._dialect import POSTGRES
from fmc.store._registry_sql import registry_migration
from fmc.store._statements import migrations_to_apply

if TYPE_CHECKING:
    import psycopg

__all__ = ["MIGRATIONS", "migrate"]

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
        for version, statements in migrations_to_apply(applied, MIGRATIONS):
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
    return max(max(applied, default=0), MIGRATIONS[-1][0])
