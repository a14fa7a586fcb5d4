"""The broadcast journal in memory, with the same compare-and-set rules as on SQL.

Each method takes the store's lock once, so every transition is atomic, as a
single SQL statement is; the rules are those of :mod:`fmc.store._journal_sql`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime, timedelta

import attrs

from fmc.models.broadcast import CLAIMED_STATES, FINAL_STATES, JournalEntry, JournalState
from fmc.store._checks import check_page_size
from fmc.store._codec import ordered_unique, utc
from fmc.store._journal_rules import LOST_IN_FLIGHT, check_reclaim, check_settle
from fmc.store.base import BroadcastInfo

__all__ = ["MemoryJournal"]


@attrs.define
class _Run:
    broadcast_id: str
    heartbeat_at: datetime
    ended: bool = False


@attrs.define
class _Slot:
    entry: JournalEntry
    run_id: str | None = None


class MemoryJournal:
    """The journal protocol methods of :class:`fmc.store.SubscriberStore` in memory.

    A mixin of :class:`~fmc.store.MemoryStore`, which calls :meth:`_init_journal`.
    """

    _jlock: threading.RLock
    _broadcasts: dict[str, BroadcastInfo]
    _runs: dict[str, _Run]
    _journal: dict[str, dict[str, _Slot]]

    def _init_journal(self, lock: threading.RLock) -> None:
        """Start empty, guarded by the store's ``lock``."""
        self._jlock = lock
        self._broadcasts = {}
        self._runs = {}
        self._journal = {}

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
        info = BroadcastInfo(
            broadcast_id, page_id, purpose, message, utc(created_at, "created_at"), fingerprint
        )
        with self._jlock:
            return self._broadcasts.setdefault(broadcast_id, info)

    def broadcast_get(self, broadcast_id: str) -> BroadcastInfo | None:
        """See :meth:`fmc.store.SubscriberStore.broadcast_get`."""
        with self._jlock:
            return self._broadcasts.get(broadcast_id)

    def broadcast_find(
        self, page_id: str, fingerprint: str, *, since: datetime
    ) -> BroadcastInfo | None:
        """See :meth:`fmc.store.SubscriberStore.broadcast_find`."""
        since = utc(since, "since")
        with self._jlock:
            found = [
                info
                for info in self._broadcasts.values()
                if info.page_id == page_id
                and info.fingerprint == fingerprint
                and info.created_at >= since
            ]
        return max(found, key=lambda info: info.created_at, default=None)

    def broadcast_parts(self, broadcast_id: str) -> list[BroadcastInfo]:
        """See :meth:`fmc.store.SubscriberStore.broadcast_parts`."""
        prefix = broadcast_id + "."
        with self._jlock:
            return sorted(
                (info for bid, info in self._broadcasts.items() if bid.startswith(prefix)),
                key=lambda info: info.broadcast_id,
            )

    def broadcast_run_start(self, broadcast_id: str, run_id: str, *, at: datetime) -> None:
        """See :meth:`fmc.store.SubscriberStore.broadcast_run_start`."""
        with self._jlock:
            self._runs[run_id] = _Run(broadcast_id, utc(at, "at"))

    def broadcast_run_beat(self, run_id: str, *, at: datetime) -> bool:
        """See :meth:`fmc.store.SubscriberStore.broadcast_run_beat`."""
        at = utc(at, "at")
        with self._jlock:
            run = self._runs.get(run_id)
            if run is None or run.ended:
                return False
            run.heartbeat_at = at
            return True

    def broadcast_run_end(self, run_id: str, *, at: datetime) -> int:
        """See :meth:`fmc.store.SubscriberStore.broadcast_run_end`."""
        utc(at, "at")
        with self._jlock:
            run = self._runs.get(run_id)
            if run is None:
                return 0
            run.ended = True
            journal = self._journal.get(run.broadcast_id, {})
            mine = [
                psid
                for psid, slot in journal.items()
                if slot.run_id == run_id and slot.entry.state is JournalState.PENDING
            ]
            for psid in mine:
                del journal[psid]
            return len(mine)

    def _live(self, broadcast_id: str, cutoff: datetime) -> set[str]:
        return {
            run_id
            for run_id, run in self._runs.items()
            if run.broadcast_id == broadcast_id and not run.ended and run.heartbeat_at >= cutoff
        }

    def broadcast_live_runs(
        self, broadcast_id: str, *, now: datetime, lease: timedelta
    ) -> list[str]:
        """See :meth:`fmc.store.SubscriberStore.broadcast_live_runs`."""
        cutoff = utc(now, "now") - lease
        with self._jlock:
            return sorted(self._live(broadcast_id, cutoff))

    def journal_recover(
        self, broadcast_id: str, *, now: datetime, lease: timedelta
    ) -> tuple[int, int]:
        """See :meth:`fmc.store.SubscriberStore.journal_recover`."""
        now = utc(now, "now")
        released = ambiguous = 0
        with self._jlock:
            live = self._live(broadcast_id, now - lease)
            journal = self._journal.get(broadcast_id, {})
            for psid, slot in list(journal.items()):
                state = slot.entry.state
                if state not in CLAIMED_STATES or (slot.run_id is not None and slot.run_id in live):
                    continue
                if state is JournalState.PENDING and slot.run_id is not None:
                    del journal[psid]
                    released += 1
                else:
                    journal[psid] = _Slot(
                        JournalEntry(
                            broadcast_id, psid, JournalState.AMBIGUOUS, None, LOST_IN_FLIGHT, now
                        )
                    )
                    ambiguous += 1
        return released, ambiguous

    # -- entries -----------------------------------------------------------------------------

    def journal_claim(
        self, broadcast_id: str, psids: Sequence[str], *, at: datetime, run_id: str | None = None
    ) -> list[str]:
        """See :meth:`fmc.store.SubscriberStore.journal_claim`."""
        at = utc(at, "at")
        claimed: list[str] = []
        with self._jlock:
            journal = self._journal.setdefault(broadcast_id, {})
            for psid in ordered_unique(psids):
                if psid not in journal:
                    entry = JournalEntry(broadcast_id, psid, JournalState.PENDING, None, None, at)
                    journal[psid] = _Slot(entry, run_id)
                    claimed.append(psid)
        return claimed

    def journal_states(self, broadcast_id: str, psids: Sequence[str]) -> dict[str, JournalState]:
        """See :meth:`fmc.store.SubscriberStore.journal_states`."""
        with self._jlock:
            journal = self._journal.get(broadcast_id, {})
            return {p: journal[p].entry.state for p in psids if p in journal}

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
        at = utc(at, "at")
        allowed = {JournalState(value) for value in check_reclaim(from_states)}
        moved: list[str] = []
        with self._jlock:
            journal = self._journal.get(broadcast_id, {})
            for psid in ordered_unique(psids):
                slot = journal.get(psid)
                if slot is not None and slot.entry.state in allowed:
                    entry = JournalEntry(broadcast_id, psid, JournalState.PENDING, None, None, at)
                    journal[psid] = _Slot(entry, run_id)
                    moved.append(psid)
        return moved

    def journal_handoff(
        self, broadcast_id: str, psids: Sequence[str], *, run_id: str, at: datetime
    ) -> list[str]:
        """See :meth:`fmc.store.SubscriberStore.journal_handoff`."""
        at = utc(at, "at")
        moved: list[str] = []
        with self._jlock:
            journal = self._journal.get(broadcast_id, {})
            for psid in ordered_unique(psids):
                slot = journal.get(psid)
                if _owned_pending(slot, run_id):
                    assert slot is not None
                    slot.entry = attrs.evolve(slot.entry, state=JournalState.SENDING, updated_at=at)
                    moved.append(psid)
        return moved

    def journal_settle(self, run_id: str, entries: Sequence[JournalEntry]) -> int:
        """See :meth:`fmc.store.SubscriberStore.journal_settle`."""
        check_settle(entries)
        changed = 0
        with self._jlock:
            for entry in map(_normalized, entries):
                slot = self._journal.get(entry.broadcast_id, {}).get(entry.psid)
                if slot is None or slot.entry.state in FINAL_STATES:
                    continue
                if entry.state not in FINAL_STATES and not (
                    slot.entry.state in CLAIMED_STATES and slot.run_id == run_id
                ):
                    continue
                slot.entry, slot.run_id = entry, None
                changed += 1
        return changed

    def journal_release(self, broadcast_id: str, psids: Sequence[str], *, run_id: str) -> int:
        """See :meth:`fmc.store.SubscriberStore.journal_release`."""
        released = 0
        with self._jlock:
            journal = self._journal.get(broadcast_id, {})
            for psid in ordered_unique(psids):
                slot = journal.get(psid)
                if _owned_pending(slot, run_id):
                    del journal[psid]
                    released += 1
        return released

    def journal_record(self, entries: Sequence[JournalEntry]) -> None:
        """See :meth:`fmc.store.SubscriberStore.journal_record`."""
        normalized = [_normalized(e) for e in entries]
        with self._jlock:
            for entry in normalized:
                journal = self._journal.setdefault(entry.broadcast_id, {})
                slot = journal.get(entry.psid)
                if slot is not None and (
                    slot.entry.state in FINAL_STATES
                    or (slot.entry.state in CLAIMED_STATES and slot.run_id is not None)
                ):
                    continue
                journal[entry.psid] = _Slot(entry)

    def journal_entries(
        self,
        broadcast_id: str,
        *,
        states: Collection[JournalState] | None = None,
        page_size: int = 500,
    ) -> Iterator[JournalEntry]:
        """See :meth:`fmc.store.SubscriberStore.journal_entries`."""
        check_page_size(page_size)
        wanted = None if states is None else frozenset(JournalState(s) for s in states)
        return self._entries(broadcast_id, wanted, page_size)

    def _entries(
        self, broadcast_id: str, wanted: frozenset[JournalState] | None, page_size: int
    ) -> Iterator[JournalEntry]:
        after: str | None = None
        while True:
            with self._jlock:
                journal = self._journal.get(broadcast_id, {})
                page = sorted(
                    (s.entry for p, s in journal.items() if after is None or p > after),
                    key=lambda e: e.psid,
                )
            page = [e for e in page if wanted is None or e.state in wanted][:page_size]
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].psid

    def journal_counts(self, broadcast_id: str) -> dict[JournalState, int]:
        """See :meth:`fmc.store.SubscriberStore.journal_counts`."""
        counts = dict.fromkeys(JournalState, 0)
        with self._jlock:
            for slot in self._journal.get(broadcast_id, {}).values():
                counts[slot.entry.state] += 1
        return counts


def _owned_pending(slot: _Slot | None, run_id: str) -> bool:
    """Whether ``slot`` is a claim of ``run_id`` not yet handed to HTTP."""
    return slot is not None and slot.run_id == run_id and slot.entry.state is JournalState.PENDING


def _normalized(entry: JournalEntry) -> JournalEntry:
    return attrs.evolve(
        entry,
        state=JournalState(entry.state),
        updated_at=None if entry.updated_at is None else utc(entry.updated_at, "updated_at"),
    )
