"""What differs between SQLite and PostgreSQL for the SQL the stores share.

Both dialects support ``ON CONFLICT`` upserts (with ``excluded`` and the
target table's name in ``DO UPDATE``) and the same ``UPDATE``/``DELETE``
forms, so shared statements are written once with ``?`` placeholders. The
hooks below are all that differs: the placeholder, how a time and a JSON
value are stored and read back, the names of the two-argument ``min``/``max``,
how a batch of rows is sent, row locks, and how an inserted row's id comes back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs

from fmc.store._codec import from_micros, to_micros, utc

__all__ = ["POSTGRES", "SQLITE", "Dialect"]


def _identity(value: Any) -> Any:
    return value


@attrs.frozen
class Dialect:
    """What differs between SQLite and PostgreSQL for the stores' SQL."""

    #: The parameter placeholder.
    ph: str
    #: Encodes an aware datetime for a parameter.
    encode_time: Callable[[datetime, str], Any]
    #: Decodes a stored time (``None`` stays ``None``).
    decode_time: Callable[[Any], datetime | None]
    #: The column type of a time in ``CREATE``/``ALTER`` statements.
    time_type: str
    #: Send a group of statements in one round trip (psycopg's pipeline mode).
    pipelined: bool = False
    #: Wraps a JSON-ready value (a list of dicts) for a JSON column parameter.
    encode_json: Callable[[Any], Any] = json.dumps
    #: Decodes a JSON column as the driver returns it.
    decode_json: Callable[[Any], Any] = json.loads
    #: The scalar two-argument minimum and maximum functions.
    least: str = "min"
    greatest: str = "max"
    #: A batch upsert sends one row of arrays through ``unnest`` (one statement),
    #: instead of the same statement once per row.
    unnest: bool = False
    #: What a ``SELECT`` adds to lock the rows it reads until the transaction ends
    #: (SQLite's ``BEGIN IMMEDIATE`` already holds the whole database).
    for_update: str = ""
    #: An ``INSERT`` returns its new id with ``RETURNING id`` (else the cursor's ``lastrowid``).
    returning_id: bool = False

    def sql(self, statement: str) -> str:
        """``statement`` with its ``?`` placeholders in this dialect."""
        return statement if self.ph == "?" else statement.replace("?", self.ph)

    def marks(self, count: int) -> str:
        """``count`` comma-separated placeholders."""
        return ", ".join([self.ph] * count)

    def insert_id(self, conn: Any, statement: str, params: Any) -> int:
        """Run an ``INSERT`` of one row (written with ``?``) and return the new row's id."""
        if self.returning_id:
            return int(conn.execute(self.sql(statement + " RETURNING id"), params).fetchone()[0])
        return int(conn.execute(self.sql(statement), params).lastrowid or 0)

    def migration(self) -> tuple[str, ...]:
        """The statements that add runs, handoffs and fingerprints to a version-1 schema."""
        t = self.time_type
        return (
            "ALTER TABLE journal ADD COLUMN run_id TEXT",
            "ALTER TABLE broadcasts ADD COLUMN fingerprint TEXT",
            "CREATE INDEX broadcasts_fingerprint ON broadcasts (page_id, fingerprint, created_at)",
            f"""CREATE TABLE broadcast_runs (
                run_id TEXT PRIMARY KEY,
                broadcast_id TEXT NOT NULL,
                started_at {t} NOT NULL,
                heartbeat_at {t} NOT NULL,
                ended_at {t}
            )""",
            "CREATE INDEX broadcast_runs_broadcast ON broadcast_runs (broadcast_id)",
        )


def _pg_time(value: Any) -> datetime | None:
    # psycopg answers in the session's time zone; stores answer in UTC.
    return None if value is None else value.astimezone(timezone.utc)


def _pg_json(value: Any) -> Any:
    # psycopg is imported only once a PostgresStore exists, never with fmc.
    from psycopg.types.json import Jsonb

    return Jsonb(value)


SQLITE = Dialect(ph="?", encode_time=to_micros, decode_time=from_micros, time_type="INTEGER")
POSTGRES = Dialect(
    ph="%s",
    encode_time=utc,
    decode_time=_pg_time,
    time_type="timestamptz",
    pipelined=True,
    encode_json=_pg_json,
    decode_json=_identity,
    least="LEAST",
    greatest="GREATEST",
    unnest=True,
    for_update=" FOR UPDATE",
    returning_id=True,
)
