"""What differs between SQLite and PostgreSQL for the SQL the stores share.

Both dialects support ``ON CONFLICT`` upserts (with ``excluded`` and the
target table's name in ``DO UPDATE``) and the same ``UPDATE``/``DELETE``
forms, so shared statements are written once with ``?`` placeholders. The
hooks below are all that differs: the placeholder, how a time and a JSON
value are stored and read back, the names of the two-argument ``min``/``max``,
how a batch of rows is sent, row locks, and how an inserted row's id comes back.

The journal writes a group of entries differently per dialect:

* A group of PSIDs travels as **one parameter** (a JSON array read by
  ``json_each`` on SQLite, a ``text[]`` on PostgreSQL), so a group is one
  statement whatever its size.
* On SQLite a group's compare-and-set is one statement over that list. On
  PostgreSQL it runs once per PSID (``executemany`` in one pipeline: one round
  trip per group): each is then a lookup on the primary key, whereas a
  statement over a list is planned from the table's statistics, which lag
  behind a journal that grows by a million rows in minutes; a plan made while
  the table looked empty scans every entry of the broadcast for each group.
  Settling a group's outcomes, the most frequent write, is one upsert over
  the group's arrays instead (no join to plan; see ``journal_settle``),
  planned afresh each time.
* SQLite has one writer at a time and its busy handler waits by sleeping, so
  a store serializes its own process's journal writes on a lock instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from fmc.store._codec import from_micros, to_micros, utc

__all__ = ["POSTGRES", "SQLITE", "Dialect"]


def _identity(value: Any) -> Any:
    return value


def _json_list(psids: Sequence[str]) -> str:
    return json.dumps(list(psids))


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
    #: A list of PSIDs bound as one ``?``, as a subquery with one column ``psid``.
    psid_rows: str = "(SELECT value AS psid FROM json_each(?))"
    #: Encodes a list of PSIDs for that parameter.
    encode_psids: Callable[[Sequence[str]], Any] = attrs.field(default=_json_list)
    #: Run a group's compare-and-set once per PSID (primary-key lookups) rather
    #: than as one statement over the list (see the module docs).
    per_psid: bool = False
    #: A ``RETURNING`` clause steps once per row, and each step gives up the GIL
    #: and waits to take it back (SQLite): count a group's changes first, and
    #: ask which rows changed only when not all of them did.
    counts_first: bool = False
    #: Serialize the process's own journal writes on a lock (one writer at a time).
    single_writer: bool = False
    #: The driver prepares statements it sees often (psycopg), and the server
    #: may then reuse a plan made when a table was small (see :meth:`execute_fresh`).
    prepares: bool = False

    def sql(self, statement: str) -> str:
        """``statement`` with its ``?`` placeholders in this dialect."""
        return statement if self.ph == "?" else statement.replace("?", self.ph)

    def psid_match(self) -> str:
        """The condition that ``psid`` is one of a group, with its one ``?``."""
        if self.per_psid:
            return "psid = ?"
        return f"psid IN (SELECT psid FROM {self.psid_rows})"  # noqa: S608 - constant SQL

    def psid_params(self, fixed: tuple[Any, ...], psids: Sequence[str]) -> list[tuple[Any, ...]]:
        """The parameter rows of a group statement: ``fixed``, then the PSID (or the list)."""
        if self.per_psid:
            return [(*fixed, psid) for psid in psids]
        return [(*fixed, self.encode_psids(psids))]

    def rows_source(self, types: Sequence[str]) -> str:
        """Rows bound as one array per column: a ``FROM`` item ``v`` (columns ``c0``, ``c1``...).

        For dialects with :attr:`unnest`; ``types`` are the columns' types
        (``"text"`` or ``"time"``). Bind :meth:`rows_params` of the rows in its place.
        """
        arrays = ", ".join(f"?::{self.time_type if t == 'time' else t}[]" for t in types)
        names = ", ".join(f"c{i}" for i in range(len(types)))
        return f"unnest({arrays}) AS v({names})"

    @staticmethod
    def rows_params(rows: Sequence[Sequence[Any]]) -> tuple[list[Any], ...]:
        """The parameters of :meth:`rows_source` for ``rows`` (tuples of encoded values)."""
        return tuple(list(column) for column in zip(*rows, strict=True))

    def execute_fresh(self, conn: Any, query: str, params: Sequence[Any]) -> Any:
        """Run ``query`` planned for this run's parameters and the tables' sizes now.

        For statements whose good plan depends on a table's size: PostgreSQL
        keeps a prepared statement's generic plan until the table is analyzed
        again, and a journal can grow a million rows before that.
        """
        if self.prepares:
            return conn.execute(query, params, prepare=False)
        return conn.execute(query, params)

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


SQLITE = Dialect(
    ph="?",
    encode_time=to_micros,
    decode_time=from_micros,
    time_type="INTEGER",
    single_writer=True,
    counts_first=True,
)
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
    psid_rows="(SELECT unnest(?::text[]) AS psid)",
    encode_psids=list,
    per_psid=True,
    prepares=True,
)
