"""What differs between SQLite and PostgreSQL for the SQL the stores share.

Both dialects support ``ON CONFLICT`` upserts, ``RETURNING`` and the same
``UPDATE``/``DELETE`` forms, so shared statements are written once with ``?``
placeholders and differ in the placeholder, in how a time is stored, and in
how the journal writes a group of entries:

* A group of PSIDs travels as **one parameter** (a JSON array read by
  ``json_each`` on SQLite, a ``text[]`` on PostgreSQL), so a group is one
  statement whatever its size.
* On SQLite a group's compare-and-set is one statement over that list. On
  PostgreSQL it runs once per PSID (``executemany`` in one pipeline: one round
  trip per group): each is then a lookup on the primary key, whereas a
  statement over a list is planned from the table's statistics, which lag
  behind a journal that grows by a million rows in minutes; a plan made while
  the table looked empty scans every entry of the broadcast for each group.
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


def _json_list(psids: Sequence[str]) -> str:
    return json.dumps(list(psids))


@attrs.frozen
class Dialect:
    """What differs between SQLite and PostgreSQL for the journal."""

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
    #: A list of PSIDs bound as one ``?``, as a subquery with one column ``psid``.
    psid_rows: str = "(SELECT value AS psid FROM json_each(?))"
    #: Encodes a list of PSIDs for that parameter.
    encode_psids: Callable[[Sequence[str]], Any] = attrs.field(default=_json_list)
    #: Run a group's compare-and-set once per PSID (primary-key lookups) rather
    #: than as one statement over the list (see the module docs).
    per_psid: bool = False
    #: Serialize the process's own journal writes on a lock (one writer at a time).
    single_writer: bool = False

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

    def marks(self, count: int) -> str:
        """``count`` comma-separated placeholders."""
        return ", ".join([self.ph] * count)

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
    return None if value is None else value.astimezone(timezone.utc)


SQLITE = Dialect(
    ph="?", encode_time=to_micros, decode_time=from_micros, time_type="INTEGER", single_writer=True
)
POSTGRES = Dialect(
    ph="%s",
    encode_time=utc,
    decode_time=_pg_time,
    time_type="timestamptz",
    pipelined=True,
    psid_rows="(SELECT unnest(?::text[]) AS psid)",
    encode_psids=list,
    per_psid=True,
)
