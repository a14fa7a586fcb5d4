"""The broadcasts and the runs of the SQL journal: who is sending what, and who is still alive.

:class:`SQLRuns` records a broadcast's message and purpose, starts, beats and
ends runs, and recovers the entries of runs that stopped beating. It also
holds what every journal statement shares: the dialect and how operations run
(in a transaction, as one statement, or as a read). The entries' own
transitions are :class:`fmc.store._journal_sql.SQLJournal`, built on it.
Only placeholders, column lists and state names (constants) are formatted into
the SQL; every value is bound (hence the file-wide S608 exemption).
"""

# ruff: noqa: S608

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from fmc.store._dialect import Dialect
from fmc.store._journal_rules import LOST_IN_FLIGHT
from fmc.store._sql_groups import Transaction, fetchall, serialized
from fmc.store.base import BroadcastInfo

__all__ = ["SQLRuns"]

_BROADCAST_COLUMNS = "broadcast_id, page_id, purpose, message, created_at, fingerprint"


class SQLRuns:
    """The broadcast and run methods of :class:`fmc.store.SubscriberStore` on SQL.

    The base of :class:`~fmc.store._journal_sql.SQLJournal`; the SQL stores
    call :meth:`_init_journal` with their dialect and transaction runners.
    """

    _d: Dialect
    _jwrite: Transaction[Any]
    _jone: Transaction[Any]
    _jread: Transaction[Any]

    def _init_journal(
        self,
        dialect: Dialect,
        *,
        write: Transaction[Any],
        read: Transaction[Any],
        one: Transaction[Any] | None = None,
    ) -> None:
        """Set the dialect and how to run operations.

        ``write`` runs an operation in a transaction, ``one`` an operation of
        exactly one statement (atomic by itself; ``write`` when not given) and
        ``read`` reads.
        """
        self._d = dialect
        one = write if one is None else one
        self._jwrite, self._jone = write, one
        if dialect.single_writer:
            lock = threading.Lock()
            self._jwrite, self._jone = serialized(write, lock), serialized(one, lock)
        self._jread = read

    def _t(self, value: datetime, name: str) -> Any:
        return self._d.encode_time(value, name)

    def _info(self, row: Sequence[Any]) -> BroadcastInfo:
        created = self._d.decode_time(row[4])
        assert created is not None
        return BroadcastInfo(row[0], row[1], row[2], row[3], created, row[5])

    def _one(self, what: str, statement: str, params: tuple[Any, ...]) -> bool:
        """Run one statement on its own (see ``one`` above); whether it changed a row."""
        query = self._d.sql(statement)
        changed: bool = self._jone(what, lambda c: c.execute(query, params).rowcount == 1)
        return changed

    # -- broadcasts and runs -----------------------------------------------------------------

    def broadcast_begin(
        self,
        broadcast_id: str,
        *,
        page_id: str,
        purpose: str,
        message: str,
        created_at: datetime,
        fingerprint: str | None = None,
    ) -> BroadcastInfo:
        """See :meth:`fmc.store.SubscriberStore.broadcast_begin`."""
        params = (
            broadcast_id,
            page_id,
            purpose,
            message,
            self._t(created_at, "created_at"),
            fingerprint,
        )
        insert = self._d.sql(
            f"INSERT INTO broadcasts ({_BROADCAST_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (broadcast_id) DO NOTHING"
        )
        select = self._d.sql(f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE broadcast_id = ?")

        def begin(conn: Any) -> Any:
            conn.execute(insert, params)
            return conn.execute(select, (broadcast_id,)).fetchone()

        return self._info(self._jwrite("begin a broadcast", begin))

    def broadcast_get(self, broadcast_id: str) -> BroadcastInfo | None:
        """See :meth:`fmc.store.SubscriberStore.broadcast_get`."""
        query = self._d.sql(f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE broadcast_id = ?")
        row = self._jread(
            "read a broadcast", lambda c: c.execute(query, (broadcast_id,)).fetchone()
        )
        return None if row is None else self._info(row)

    def broadcast_find(
        self, page_id: str, fingerprint: str, *, since: datetime
    ) -> BroadcastInfo | None:
        """See :meth:`fmc.store.SubscriberStore.broadcast_find`."""
        query = self._d.sql(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE page_id = ? AND fingerprint = ? "
            "AND created_at >= ? ORDER BY created_at DESC LIMIT 1"
        )
        params = (page_id, fingerprint, self._t(since, "since"))
        row = self._jread("find a broadcast", lambda c: c.execute(query, params).fetchone())
        return None if row is None else self._info(row)

    def broadcast_parts(self, broadcast_id: str) -> list[BroadcastInfo]:
        """See :meth:`fmc.store.SubscriberStore.broadcast_parts`."""
        prefix = broadcast_id + "."
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = self._d.sql(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE broadcast_id LIKE ? ESCAPE '\\'"
        )
        rows = self._jread("read a broadcast's parts", fetchall(query, (escaped + "%",)))
        # SQLite's LIKE ignores ASCII case: keep only the exact prefix, in code point order.
        return sorted(
            (self._info(row) for row in rows if row[0].startswith(prefix)),
            key=lambda info: info.broadcast_id,
        )

    def broadcast_run_start(self, broadcast_id: str, run_id: str, *, at: datetime) -> None:
        """See :meth:`fmc.store.SubscriberStore.broadcast_run_start`."""
        when = self._t(at, "at")
        self._one(
            "start a broadcast run",
            "INSERT INTO broadcast_runs (run_id, broadcast_id, started_at, heartbeat_at) "
            "VALUES (?, ?, ?, ?)",
            (run_id, broadcast_id, when, when),
        )

    def broadcast_run_beat(self, run_id: str, *, at: datetime) -> bool:
        """See :meth:`fmc.store.SubscriberStore.broadcast_run_beat`."""
        return self._one(
            "renew a run's heartbeat",
            "UPDATE broadcast_runs SET heartbeat_at = ? WHERE run_id = ? AND ended_at IS NULL",
            (self._t(at, "at"), run_id),
        )

    def broadcast_run_end(self, run_id: str, *, at: datetime) -> int:
        """See :meth:`fmc.store.SubscriberStore.broadcast_run_end`."""
        when = self._t(at, "at")
        # The run's broadcast narrows the delete to that broadcast's PENDING
        # entries (the state index) instead of every entry of every broadcast.
        release = self._d.sql(
            "DELETE FROM journal WHERE broadcast_id = "
            "(SELECT r.broadcast_id FROM broadcast_runs AS r WHERE r.run_id = ?) "
            "AND state = 'pending' AND run_id = ?"
        )
        end = self._d.sql("UPDATE broadcast_runs SET ended_at = ? WHERE run_id = ?")

        def finish(conn: Any) -> int:
            released = int(conn.execute(release, (run_id, run_id)).rowcount)
            conn.execute(end, (when, run_id))
            return released

        result: int = self._jwrite("end a broadcast run", finish)
        return result

    def _live(self) -> str:
        return (
            "SELECT run_id FROM broadcast_runs WHERE broadcast_id = ? "
            "AND ended_at IS NULL AND heartbeat_at >= ?"
        )

    def broadcast_live_runs(
        self, broadcast_id: str, *, now: datetime, lease: timedelta
    ) -> list[str]:
        """See :meth:`fmc.store.SubscriberStore.broadcast_live_runs`."""
        query = self._d.sql(self._live() + " ORDER BY run_id")
        params = (broadcast_id, self._t(now - lease, "now"))
        rows = self._jread("read live runs", lambda c: c.execute(query, params).fetchall())
        return [row[0] for row in rows]

    def journal_recover(
        self, broadcast_id: str, *, now: datetime, lease: timedelta
    ) -> tuple[int, int]:
        """See :meth:`fmc.store.SubscriberStore.journal_recover`."""
        cutoff = self._t(now - lease, "now")
        when = self._t(now, "now")
        lost = self._d.sql(
            "UPDATE journal SET state = 'ambiguous', detail = ?, updated_at = ?, run_id = NULL "
            "WHERE broadcast_id = ? AND state IN ('pending', 'sending') "
            "AND (run_id IS NULL OR (state = 'sending' AND run_id NOT IN (" + self._live() + ")))"
        )
        release = self._d.sql(
            "DELETE FROM journal WHERE broadcast_id = ? AND state = 'pending' "
            "AND run_id IS NOT NULL AND run_id NOT IN (" + self._live() + ")"
        )

        def recover(conn: Any) -> tuple[int, int]:
            ambiguous = conn.execute(
                lost, (LOST_IN_FLIGHT, when, broadcast_id, broadcast_id, cutoff)
            ).rowcount
            released = conn.execute(release, (broadcast_id, broadcast_id, cutoff)).rowcount
            return int(released), int(ambiguous)

        result: tuple[int, int] = self._jwrite("recover a broadcast's journal", recover)
        return result
