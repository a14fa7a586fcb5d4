"""The broadcast journal on SQL, one implementation for SQLite and PostgreSQL.

Every transition is one ``UPDATE``/``INSERT``/``DELETE`` whose ``WHERE`` clause
is the state machine's rule (a compare-and-set), so two runs, threads or
processes cannot undo each other's writes, whatever the interleaving. The two
dialects differ only in their placeholder and how they store a time; both
support ``ON CONFLICT`` upserts, so the statements are otherwise the same.
Only placeholders, column lists and state names (constants) are formatted into
the SQL; every value is bound (hence the file-wide S608 exemption).
"""

# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from fmc.models.broadcast import (
    CLAIMED_STATES,
    FINAL_STATES,
    RECLAIMABLE_STATES,
    JournalEntry,
    JournalState,
)
from fmc.store._codec import ordered_unique
from fmc.store._dialect import Dialect
from fmc.store.base import BroadcastInfo

__all__ = [
    "LOST_IN_FLIGHT",
    "SQLJournal",
    "check_reclaim",
    "check_settle",
    "new_run_id",
]

_T = TypeVar("_T")

#: Runs a function in one write transaction: ``(what, operation) -> result``.
Transaction = Callable[[str, Callable[[Any], _T]], _T]

#: The detail of an entry whose run died after handing it to the HTTP layer.
LOST_IN_FLIGHT = "the run that sent this stopped before Meta's answer was recorded"


def new_run_id() -> str:
    """A fresh, unique run id."""
    return f"run-{uuid.uuid4().hex}"


_ENTRY_COLUMNS = "broadcast_id, psid, state, message_id, detail, updated_at"
_BROADCAST_COLUMNS = "broadcast_id, page_id, purpose, message, created_at, fingerprint"
_FINAL = ", ".join(f"'{s.value}'" for s in sorted(FINAL_STATES))
_CLAIMED = ", ".join(f"'{s.value}'" for s in sorted(CLAIMED_STATES))


def _fetchall(query: str, params: Sequence[Any]) -> Callable[[Any], list[Any]]:
    def fetch(conn: Any) -> list[Any]:
        return list(conn.execute(query, params).fetchall())

    return fetch


def check_settle(entries: Sequence[JournalEntry]) -> None:
    """Refuse outcomes that are not SENT, FAILED, RETRYABLE or AMBIGUOUS."""
    allowed = FINAL_STATES | {JournalState.RETRYABLE, JournalState.AMBIGUOUS}
    for entry in entries:
        if JournalState(entry.state) not in allowed:
            raise ValueError(
                f"journal_settle records outcomes (sent, failed, retryable, ambiguous), "
                f"not {JournalState(entry.state).value!r}"
            )


def check_reclaim(states: Collection[JournalState]) -> list[str]:
    """The values of ``states``, refusing any that cannot be reclaimed."""
    values = []
    for state in states:
        state = JournalState(state)
        if state not in RECLAIMABLE_STATES:
            raise ValueError(
                f"only retryable, skipped and ambiguous entries can be reclaimed, "
                f"not {state.value!r}"
            )
        values.append(state.value)
    return values


class SQLJournal:
    """The journal protocol methods of :class:`fmc.store.SubscriberStore` on SQL.

    A mixin of the SQL stores, which call :meth:`_init_journal` with their
    dialect and transaction runners.
    """

    _d: Dialect
    _jwrite: Transaction[Any]
    _jread: Transaction[Any]

    def _init_journal(
        self, dialect: Dialect, *, write: Transaction[Any], read: Transaction[Any]
    ) -> None:
        """Set the dialect and how to run write and read operations."""
        self._d = dialect
        self._jwrite = write
        self._jread = read

    def _t(self, value: datetime, name: str) -> Any:
        return self._d.encode_time(value, name)

    def _info(self, row: Sequence[Any]) -> BroadcastInfo:
        created = self._d.decode_time(row[4])
        assert created is not None
        return BroadcastInfo(row[0], row[1], row[2], row[3], created, row[5])

    def _entry(self, row: Sequence[Any]) -> JournalEntry:
        return JournalEntry(
            row[0], row[1], JournalState(row[2]), row[3], row[4], self._d.decode_time(row[5])
        )

    def _each(self, what: str, statement: str, rows: Sequence[tuple[Any, ...]]) -> list[bool]:
        """Run ``statement`` once per row in one transaction; whether each changed a row."""
        query = self._d.sql(statement)

        def run(conn: Any) -> list[bool]:
            return [n == 1 for n in self._rowcounts(conn, [(query, row) for row in rows])]

        return self._jwrite(what, run) if rows else []

    def _rowcounts(self, conn: Any, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        """Run the statements in order on ``conn``; the rows each changed.

        On PostgreSQL they go out in one pipeline: one round trip for the
        group instead of one per statement, in the same transaction.
        """
        if not self._d.pipelined:
            return [int(conn.execute(q, p).rowcount) for q, p in statements]
        with conn.pipeline():
            cursors = [conn.execute(q, p) for q, p in statements]
        return [int(cursor.rowcount) for cursor in cursors]

    def _each_psid(
        self,
        what: str,
        statement: str,
        psids: Sequence[str],
        row: Callable[[str], tuple[Any, ...]],
    ) -> list[str]:
        """Run ``statement`` for each PSID; the PSIDs it changed, in input order.

        The rows are written in PSID order, so concurrent transactions lock
        them in the same order and cannot deadlock.
        """
        wanted = ordered_unique(psids)
        ordered = sorted(wanted)
        changed = {
            psid
            for psid, ok in zip(
                ordered, self._each(what, statement, [row(p) for p in ordered]), strict=True
            )
            if ok
        }
        return [psid for psid in wanted if psid in changed]

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
        rows = self._jread("read a broadcast's parts", _fetchall(query, (escaped + "%",)))
        # SQLite's LIKE ignores ASCII case: keep only the exact prefix, in code point order.
        return sorted(
            (self._info(row) for row in rows if row[0].startswith(prefix)),
            key=lambda info: info.broadcast_id,
        )

    def broadcast_run_start(self, broadcast_id: str, run_id: str, *, at: datetime) -> None:
        """See :meth:`fmc.store.SubscriberStore.broadcast_run_start`."""
        when = self._t(at, "at")
        self._each(
            "start a broadcast run",
            "INSERT INTO broadcast_runs (run_id, broadcast_id, started_at, heartbeat_at) "
            "VALUES (?, ?, ?, ?)",
            [(run_id, broadcast_id, when, when)],
        )

    def broadcast_run_beat(self, run_id: str, *, at: datetime) -> bool:
        """See :meth:`fmc.store.SubscriberStore.broadcast_run_beat`."""
        (beat,) = self._each(
            "renew a run's heartbeat",
            "UPDATE broadcast_runs SET heartbeat_at = ? WHERE run_id = ? AND ended_at IS NULL",
            [(self._t(at, "at"), run_id)],
        )
        return beat

    def broadcast_run_end(self, run_id: str, *, at: datetime) -> int:
        """See :meth:`fmc.store.SubscriberStore.broadcast_run_end`."""
        when = self._t(at, "at")
        release = self._d.sql("DELETE FROM journal WHERE run_id = ? AND state = 'pending'")
        end = self._d.sql("UPDATE broadcast_runs SET ended_at = ? WHERE run_id = ?")

        def finish(conn: Any) -> int:
            released = int(conn.execute(release, (run_id,)).rowcount)
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

    # -- entries -----------------------------------------------------------------------------

    def journal_claim(
        self, broadcast_id: str, psids: Sequence[str], *, at: datetime, run_id: str | None = None
    ) -> list[str]:
        """See :meth:`fmc.store.SubscriberStore.journal_claim`."""
        when = self._t(at, "at")
        return self._each_psid(
            "claim journal entries",
            "INSERT INTO journal (broadcast_id, psid, state, updated_at, run_id) "
            "VALUES (?, ?, 'pending', ?, ?) ON CONFLICT (broadcast_id, psid) DO NOTHING",
            psids,
            lambda psid: (broadcast_id, psid, when, run_id),
        )

    def journal_states(self, broadcast_id: str, psids: Sequence[str]) -> dict[str, JournalState]:
        """See :meth:`fmc.store.SubscriberStore.journal_states`."""
        wanted = ordered_unique(psids)
        states: dict[str, JournalState] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = self._d.sql(
                "SELECT psid, state FROM journal WHERE broadcast_id = ? "
                f"AND psid IN ({self._d.marks(len(chunk))})"
            )
            params = (broadcast_id, *chunk)
            rows = self._jread("read journal states", _fetchall(query, params))
            states.update((psid, JournalState(state)) for psid, state in rows)
        return states

    def journal_reclaim(
        self,
        broadcast_id: str,
        psids: Sequence[str],
        *,
        from_states: Collection[JournalState],
        at: datetime,
        run_id: str | None = None,
    ) -> list[str]:
        """See :meth:`fmc.store.SubscriberStore.journal_reclaim`."""
        when = self._t(at, "at")
        states = check_reclaim(from_states)
        if not states:
            return []
        return self._each_psid(
            "reclaim journal entries",
            "UPDATE journal SET state = 'pending', message_id = NULL, detail = NULL, "
            "updated_at = ?, run_id = ? WHERE broadcast_id = ? AND psid = ? "
            f"AND state IN ({', '.join('?' * len(states))})",
            psids,
            lambda psid: (when, run_id, broadcast_id, psid, *states),
        )

    def journal_handoff(
        self, broadcast_id: str, psids: Sequence[str], *, run_id: str, at: datetime
    ) -> list[str]:
        """See :meth:`fmc.store.SubscriberStore.journal_handoff`."""
        when = self._t(at, "at")
        return self._each_psid(
            "hand journal entries to HTTP",
            "UPDATE journal SET state = 'sending', updated_at = ? WHERE broadcast_id = ? "
            "AND psid = ? AND state = 'pending' AND run_id = ?",
            psids,
            lambda psid: (when, broadcast_id, psid, run_id),
        )

    def journal_settle(self, run_id: str, entries: Sequence[JournalEntry]) -> int:
        """See :meth:`fmc.store.SubscriberStore.journal_settle`."""
        check_settle(entries)
        rows = []
        for e in sorted(entries, key=lambda e: (e.broadcast_id, e.psid)):
            final = JournalState(e.state) in FINAL_STATES
            guard = (
                f"state NOT IN ({_FINAL})"
                if final
                else f"state IN ({_CLAIMED}) AND run_id = {self._d.ph}"
            )
            statement = (
                "UPDATE journal SET state = ?, message_id = ?, detail = ?, updated_at = ?, "
                f"run_id = NULL WHERE broadcast_id = ? AND psid = ? AND {guard}"
            )
            when = None if e.updated_at is None else self._t(e.updated_at, "updated_at")
            params: tuple[Any, ...] = (JournalState(e.state).value, e.message_id, e.detail, when)
            params += (e.broadcast_id, e.psid) + (() if final else (run_id,))
            rows.append((statement, params))

        def settle(conn: Any) -> int:
            counts = self._rowcounts(conn, [(self._d.sql(q), p) for q, p in rows])
            return sum(n == 1 for n in counts)

        result: int = self._jwrite("settle journal entries", settle) if rows else 0
        return result

    def journal_release(self, broadcast_id: str, psids: Sequence[str], *, run_id: str) -> int:
        """See :meth:`fmc.store.SubscriberStore.journal_release`."""
        released = self._each_psid(
            "release journal entries",
            "DELETE FROM journal WHERE broadcast_id = ? AND psid = ? AND state = 'pending' "
            "AND run_id = ?",
            psids,
            lambda psid: (broadcast_id, psid, run_id),
        )
        return len(released)

    def journal_record(self, entries: Sequence[JournalEntry]) -> None:
        """See :meth:`fmc.store.SubscriberStore.journal_record`."""
        rows = [
            (
                e.broadcast_id,
                e.psid,
                JournalState(e.state).value,
                e.message_id,
                e.detail,
                None if e.updated_at is None else self._t(e.updated_at, "updated_at"),
            )
            for e in sorted(entries, key=lambda e: (e.broadcast_id, e.psid))
        ]
        self._each(
            "record journal entries",
            f"INSERT INTO journal ({_ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (broadcast_id, psid) DO UPDATE SET state = excluded.state, "
            "message_id = excluded.message_id, detail = excluded.detail, "
            "updated_at = excluded.updated_at, run_id = NULL "
            f"WHERE journal.state NOT IN ({_FINAL}) "
            f"AND NOT (journal.state IN ({_CLAIMED}) AND journal.run_id IS NOT NULL)",
            rows,
        )

    def journal_entries(
        self,
        broadcast_id: str,
        *,
        states: Collection[JournalState] | None = None,
        page_size: int = 500,
    ) -> Iterator[JournalEntry]:
        """See :meth:`fmc.store.SubscriberStore.journal_entries`."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        values = None if states is None else [JournalState(s).value for s in states]
        if values == []:
            return iter(())
        return self._entries(broadcast_id, values, page_size)

    def _entries(
        self, broadcast_id: str, values: list[str] | None, page_size: int
    ) -> Iterator[JournalEntry]:
        by_state = "" if values is None else f"AND state IN ({self._d.marks(len(values))}) "
        query = self._d.sql(
            f"SELECT {_ENTRY_COLUMNS} FROM journal WHERE broadcast_id = ? AND psid > ? "
            + by_state
            + "ORDER BY psid LIMIT ?"
        )
        after = ""
        while True:
            params = (broadcast_id, after, *(values or ()), page_size)
            rows = self._jread("read journal entries", _fetchall(query, params))
            for row in rows:
                yield self._entry(row)
            if len(rows) < page_size:
                return
            after = rows[-1][1]

    def journal_counts(self, broadcast_id: str) -> dict[JournalState, int]:
        """See :meth:`fmc.store.SubscriberStore.journal_counts`."""
        query = self._d.sql(
            "SELECT state, count(*) FROM journal WHERE broadcast_id = ? GROUP BY state"
        )
        rows = self._jread(
            "count journal entries", lambda c: c.execute(query, (broadcast_id,)).fetchall()
        )
        counts = dict.fromkeys(JournalState, 0)
        counts.update((JournalState(state), int(n)) for state, n in rows)
        return counts
