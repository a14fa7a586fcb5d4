"""The broadcast journal's entries on SQL, one implementation for SQLite and PostgreSQL.

(The broadcasts and the runs that own entries are :mod:`fmc.store._journal_runs`.)

Every transition is an ``UPDATE``/``INSERT``/``DELETE`` whose ``WHERE`` clause
is the state machine's rule (a compare-and-set), so two runs, threads or
processes cannot undo each other's writes, whatever the interleaving. A group
of entries (a claim, a handoff, a settle) is written in one transaction, as one
statement over the group or one per entry in a single round trip; which, and
the placeholder and how a time is stored, are the dialect's
(:mod:`fmc.store._dialect`). Only placeholders, column lists and state names
(constants) are formatted into the SQL; every value is bound (hence the
file-wide S608 exemption).
"""

# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from fmc.models.broadcast import CLAIMED_STATES, FINAL_STATES, JournalEntry, JournalState
from fmc.store._checks import check_page_size
from fmc.store._codec import ordered_unique
from fmc.store._journal_rules import LOST_IN_FLIGHT, check_reclaim, check_settle, new_run_id
from fmc.store._journal_runs import SQLRuns
from fmc.store._sql_groups import (
    PartlyChangedError,
    Transaction,
    all_changed,
    changed_rows,
    fetchall,
    returned,
)

__all__ = [
    "LOST_IN_FLIGHT",
    "SQLJournal",
    "Transaction",
    "check_reclaim",
    "check_settle",
    "new_run_id",
]

_ENTRY_COLUMNS = "broadcast_id, psid, state, message_id, detail, updated_at"
_FINAL = ", ".join(f"'{s.value}'" for s in sorted(FINAL_STATES))
_FINAL_VALUES = frozenset(s.value for s in FINAL_STATES)
_CLAIMED = ", ".join(f"'{s.value}'" for s in sorted(CLAIMED_STATES))


class SQLJournal(SQLRuns):
    """The journal protocol methods of :class:`fmc.store.SubscriberStore` on SQL.

    A mixin of the SQL stores: the entries' transitions here, the broadcasts
    and runs in :class:`~fmc.store._journal_runs.SQLRuns`.
    """

    def _entry(self, row: Sequence[Any]) -> JournalEntry:
        return JournalEntry(
            row[0], row[1], JournalState(row[2]), row[3], row[4], self._d.decode_time(row[5])
        )

    def _entry_row(self, e: JournalEntry) -> tuple[Any, ...]:
        """An entry's values in the order of ``_ENTRY_COLUMNS``, encoded for the dialect."""
        when = None if e.updated_at is None else self._t(e.updated_at, "updated_at")
        return (e.broadcast_id, e.psid, JournalState(e.state).value, e.message_id, e.detail, when)

    def _changed(
        self, what: str, statement: str, fixed: tuple[Any, ...], psids: Sequence[str]
    ) -> list[str]:
        """Run a group's compare-and-set for ``psids``; the PSIDs it changed, in input order.

        ``statement`` ends in ``RETURNING psid`` and has ``{psids}`` where the
        dialect's PSID condition goes, after the ``fixed`` parameters. The
        PSIDs go in sorted order, so concurrent transactions lock rows in the
        same order and cannot deadlock.
        """
        wanted = ordered_unique(psids)
        if not wanted:
            return []
        query = self._d.sql(statement.format(psids=self._d.psid_match()))
        return self._group(what, query, self._d.psid_params(fixed, sorted(wanted)), wanted)

    def _group(
        self,
        what: str,
        query: str,
        rows: Sequence[Sequence[Any]],
        wanted: list[str],
        write: Transaction[Any] | None = None,
    ) -> list[str]:
        """Run ``query`` (ending in ``RETURNING psid``) for a group; which of ``wanted`` changed.

        With the dialect's ``counts_first``, the statement first runs without
        ``RETURNING``: when every PSID changed (the usual case) that is the
        answer; otherwise that transaction is rolled back and the statement
        runs again, with ``RETURNING``, in a transaction of its own.
        """
        if self._d.counts_first:
            counted = query.removesuffix(" RETURNING psid")
            try:
                self._jwrite(what, lambda conn: all_changed(conn, counted, rows, len(wanted)))
            except PartlyChangedError:
                pass  # rolled back: nothing of it stands
            else:
                return wanted
        run = self._jwrite if write is None else write
        execute_one = self._d.execute_fresh
        changed = {
            row[0]
            for row in run(what, lambda conn: returned(conn, query, rows, execute_one=execute_one))
        }
        return [psid for psid in wanted if psid in changed]

    # -- entries -----------------------------------------------------------------------------

    def journal_claim(
        self, broadcast_id: str, psids: Sequence[str], *, at: datetime, run_id: str | None = None
    ) -> list[str]:
        """See :meth:`fmc.store.SubscriberStore.journal_claim`."""
        wanted = ordered_unique(psids)
        if not wanted:
            return []
        # One INSERT for the group: a conflict is checked on the primary key,
        # so no plan can make it scan; rows go in PSID order (see _changed).
        query = self._d.sql(
            "INSERT INTO journal (broadcast_id, psid, state, updated_at, run_id) "
            f"SELECT ?, w.psid, 'pending', ?, ? FROM {self._d.psid_rows} AS w WHERE true "
            "ORDER BY w.psid ON CONFLICT (broadcast_id, psid) DO NOTHING RETURNING psid"
        )
        params = (broadcast_id, self._t(at, "at"), run_id, self._d.encode_psids(wanted))
        return self._group("claim journal entries", query, [params], wanted, self._jone)

    def journal_states(self, broadcast_id: str, psids: Sequence[str]) -> dict[str, JournalState]:
        """See :meth:`fmc.store.SubscriberStore.journal_states`."""
        wanted = ordered_unique(psids)
        if not wanted:
            return {}
        # One primary-key lookup per PSID, whatever the table's statistics say.
        query = self._d.sql(
            "SELECT w.psid, (SELECT j.state FROM journal AS j "
            "WHERE j.broadcast_id = ? AND j.psid = w.psid) "
            f"FROM {self._d.psid_rows} AS w"
        )
        params = (broadcast_id, self._d.encode_psids(wanted))
        rows = self._jread("read journal states", fetchall(query, params))
        return {psid: JournalState(state) for psid, state in rows if state is not None}

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
        return self._changed(
            "reclaim journal entries",
            "UPDATE journal SET state = 'pending', message_id = NULL, detail = NULL, "
            "updated_at = ?, run_id = ? WHERE broadcast_id = ? "
            f"AND state IN ({', '.join('?' * len(states))}) AND {{psids}} RETURNING psid",
            (when, run_id, broadcast_id, *states),
            psids,
        )

    def journal_handoff(
        self, broadcast_id: str, psids: Sequence[str], *, run_id: str, at: datetime
    ) -> list[str]:
        """See :meth:`fmc.store.SubscriberStore.journal_handoff`."""
        if self._d.unnest:
            return self._handoff_at_once(broadcast_id, psids, run_id=run_id, at=at)
        return self._changed(
            "hand journal entries to HTTP",
            "UPDATE journal SET state = 'sending', updated_at = ? WHERE broadcast_id = ? "
            "AND state = 'pending' AND run_id = ? AND {psids} RETURNING psid",
            (self._t(at, "at"), broadcast_id, run_id),
            psids,
        )

    def _handoff_at_once(
        self, broadcast_id: str, psids: Sequence[str], *, run_id: str, at: datetime
    ) -> list[str]:
        """Hand a group off as one statement, the way :meth:`_settle_at_once` settles one.

        An upsert, planned afresh: its ``ON CONFLICT`` arbiter finds each entry
        by the primary key, and its scalar subquery (never flattened into a
        join) names broadcast, state and PSID, an exact match in the primary
        key and in ``journal_state`` alike, whatever the statistics say. One
        round trip for the batch instead of one statement per PSID, each of
        which costs the sending thread the driver's work under the GIL. Only this run's
        PENDING entries move to SENDING. An entry deleted between the check
        and the write (by a release, or by a recovery that took the run for
        dead) is written back as this run's SENDING: the send then goes out
        and the journal says so; another run's claim of it fails, so nobody
        gets it twice.
        """
        wanted = ordered_unique(psids)
        if not wanted:
            return []
        query = self._d.sql(
            "INSERT INTO journal AS j (broadcast_id, psid, state, updated_at, run_id) "
            f"SELECT ?, w.psid, 'sending', ?, ? FROM {self._d.psid_rows} AS w "
            "WHERE (SELECT k.run_id FROM journal AS k WHERE k.broadcast_id = ? "
            "AND k.state = 'pending' AND k.psid = w.psid) = ? ORDER BY w.psid "
            "ON CONFLICT (broadcast_id, psid) DO UPDATE SET state = 'sending', "
            "updated_at = excluded.updated_at WHERE j.state = 'pending' AND j.run_id = ? "
            "RETURNING j.psid"
        )
        params = (
            broadcast_id,
            self._t(at, "at"),
            run_id,
            self._d.encode_psids(wanted),  # rows go in PSID order (ORDER BY), as in a claim
            broadcast_id,
            run_id,
            run_id,
        )
        return self._group("hand journal entries to HTTP", query, [params], wanted, self._jone)

    def journal_settle(self, run_id: str, entries: Sequence[JournalEntry]) -> int:
        """See :meth:`fmc.store.SubscriberStore.journal_settle`."""
        check_settle(entries)
        if not entries:
            return 0
        ordered = sorted(entries, key=lambda e: (e.broadcast_id, e.psid))
        if self._d.unnest and len({(e.broadcast_id, e.psid) for e in ordered}) == len(ordered):
            return self._settle_at_once(run_id, ordered)
        # A final outcome (SENT, FAILED) may overwrite any entry not final yet;
        # another outcome only this run's claim.
        query = self._d.sql(
            "UPDATE journal SET state = ?, message_id = ?, detail = ?, updated_at = ?, "
            f"run_id = NULL WHERE broadcast_id = ? AND psid = ? AND state NOT IN ({_FINAL}) "
            f"AND (? OR (state IN ({_CLAIMED}) AND run_id = ?))"
        )
        rows = [
            (state, message_id, detail, at, bid, psid, state in _FINAL_VALUES, run_id)
            for bid, psid, state, message_id, detail, at in map(self._entry_row, ordered)
        ]
        changed: int = self._jwrite(
            "settle journal entries", lambda conn: changed_rows(conn, query, rows)
        )
        return changed

    def _settle_at_once(self, run_id: str, ordered: Sequence[JournalEntry]) -> int:
        """Settle a group as one statement: one round trip and one commit.

        An upsert over the group's rows, so each entry is found through the
        primary key whatever the table's statistics say: the ``ON CONFLICT``
        arbiter, and a scalar subquery on the whole key (planned afresh each
        time, so a plan cached while the journal was small cannot scan it once
        it is large). The subquery proposes only entries that pass the
        compare-and-set now, and ``DO UPDATE ... WHERE`` re-checks it on the
        locked row, as an ``UPDATE`` would. An entry that passed and is
        deleted in between (only PENDING entries ever are) is inserted with
        its outcome: the same as settling it, then deleting. Keys must be
        unique (the caller falls back to one ``UPDATE`` each).
        """
        rows = [self._entry_row(e) for e in ordered]
        may = (
            "{t}.state NOT IN ({final}) AND ({new} IN ({final}) "
            "OR ({t}.state IN ({claimed}) AND {t}.run_id = ?))"
        )
        rows_source = self._d.rows_source(("text",) * 5 + ("time",))
        query = self._d.sql(
            f"INSERT INTO journal AS j ({_ENTRY_COLUMNS}) "
            f"SELECT v.c0, v.c1, v.c2, v.c3, v.c4, v.c5 FROM {rows_source} "
            f"WHERE (SELECT {may.format(t='k', new='v.c2', final=_FINAL, claimed=_CLAIMED)} "
            "FROM journal AS k WHERE k.broadcast_id = v.c0 AND k.psid = v.c1) "
            "ON CONFLICT (broadcast_id, psid) DO UPDATE SET state = excluded.state, "
            "message_id = excluded.message_id, detail = excluded.detail, "
            "updated_at = excluded.updated_at, run_id = NULL "
            f"WHERE {may.format(t='j', new='excluded.state', final=_FINAL, claimed=_CLAIMED)}"
        )
        params = (*self._d.rows_params(rows), run_id, run_id)
        changed: int = self._jone(
            "settle journal entries",
            lambda conn: int(self._d.execute_fresh(conn, query, params).rowcount),
        )
        return changed

    def journal_release(self, broadcast_id: str, psids: Sequence[str], *, run_id: str) -> int:
        """See :meth:`fmc.store.SubscriberStore.journal_release`."""
        released = self._changed(
            "release journal entries",
            "DELETE FROM journal WHERE broadcast_id = ? AND state = 'pending' AND run_id = ? "
            "AND {psids} RETURNING psid",
            (broadcast_id, run_id),
            psids,
        )
        return len(released)

    def journal_record(self, entries: Sequence[JournalEntry]) -> None:
        """See :meth:`fmc.store.SubscriberStore.journal_record`."""
        rows = [self._entry_row(e) for e in sorted(entries, key=lambda e: (e.broadcast_id, e.psid))]
        if not rows:
            return
        query = self._d.sql(
            f"INSERT INTO journal ({_ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (broadcast_id, psid) DO UPDATE SET state = excluded.state, "
            "message_id = excluded.message_id, detail = excluded.detail, "
            "updated_at = excluded.updated_at, run_id = NULL "
            f"WHERE journal.state NOT IN ({_FINAL}) "
            f"AND NOT (journal.state IN ({_CLAIMED}) AND journal.run_id IS NOT NULL)"
        )
        self._jwrite("record journal entries", lambda conn: changed_rows(conn, query, rows))

    def journal_entries(
        self,
        broadcast_id: str,
        *,
        states: Collection[JournalState] | None = None,
        page_size: int = 500,
    ) -> Iterator[JournalEntry]:
        """See :meth:`fmc.store.SubscriberStore.journal_entries`."""
        check_page_size(page_size)
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
            rows = self._jread("read journal entries", fetchall(query, params))
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
