"""What differs between SQLite and PostgreSQL for the SQL the stores share.

Both dialects support ``ON CONFLICT`` upserts and the same ``UPDATE``/``DELETE``
forms, so shared statements are written once with ``?`` placeholders and
differ only in the placeholder and in how a time is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs

from fmc.store._codec import from_micros, to_micros, utc

__all__ = ["POSTGRES", "SQLITE", "Dialect"]


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

    def sql(self, statement: str) -> str:
        """``statement`` with its ``?`` placeholders in this dialect."""
        return statement if self.ph == "?" else statement.replace("?", self.ph)

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


SQLITE = Dialect(ph="?", encode_time=to_micros, decode_time=from_micros, time_type="INTEGER")
POSTGRES = Dialect(
    ph="%s", encode_time=utc, decode_time=_pg_time, time_type="timestamptz", pipelined=True
)
