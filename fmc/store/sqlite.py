"""The default subscriber store: one SQLite file, safe for many threads and processes."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

import attrs

from fmc.errors import ConfigurationError, StoreError
from fmc.models.broadcast import JournalEntry, JournalState
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import NotificationToken, Subscriber, SubscriberStatus, TokenStatus
from fmc.store import _sqlite_schema as sql
from fmc.store._codec import (
    merge_events,
    ordered_unique,
    to_micros,
    tokens_from_data,
    tokens_to_data,
    utc,
)
from fmc.store._sqlite_pool import SQLitePool
from fmc.store.base import BroadcastInfo, EventRecord

__all__ = ["SQLiteStore"]

_T = TypeVar("_T")
_PURGE_EVERY = 1000
#: SQLite's default limit on host parameters is 999 in old versions; stay well below.
_CHUNK = 500
_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def _fetchall(
    query: str, params: Sequence[Any]
) -> Callable[[sqlite3.Connection], list[tuple[Any, ...]]]:
    return lambda conn: conn.execute(query, params).fetchall()


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _checked_path(path: object) -> str:
    # The mistakes people make with a path (an unset environment variable, a
    # directory not made yet) get an error that says what to do.
    if path is None:
        raise ConfigurationError(
            "SQLiteStore needs a database file path, got None; if it comes from an "
            "environment variable (such as FMC_DB), that variable is not set"
        )
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigurationError(
            f"SQLiteStore needs a database file path (str or os.PathLike), "
            f"got {type(path).__name__}"
        )
    text = os.fspath(path)
    if not isinstance(text, str):
        raise ConfigurationError("SQLiteStore needs a text path, not bytes")
    if text in ("", ":memory:") or text.startswith("file::memory:"):
        return text
    directory = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(directory):
        # A StoreError, like any other file SQLite cannot open.
        raise StoreError(
            f"SQLiteStore cannot create {text!r}: the directory {directory!r} does not "
            f"exist; create it first (mkdir -p {directory}) or choose another path"
        )
    return text


class SQLiteStore:
    """A :class:`~fmc.store.SubscriberStore` in one SQLite file (the default store).

    Concurrency: the file is in WAL mode, so readers never wait for writers
    and one writer at a time commits. Connections come from a small pool (each
    used by one thread at a time, so thread-per-request servers do not leak
    connections). Every write runs in ``BEGIN IMMEDIATE``: it takes the write
    lock up front, waiting up to ``busy_timeout`` seconds, and if the database
    is still busy the whole transaction is retried ``busy_retries`` times with
    a growing pause; only then does a :class:`~fmc.errors.StoreError` escape.
    Iteration reads one keyset page per short query and holds no transaction
    between pages, so a broadcast reading never blocks webhook threads writing.
    Several processes may share the file (not over a network file system).

    Durability: with the default ``synchronous="NORMAL"`` a commit is written
    to the WAL but fsynced only at checkpoints. A crash of the process loses
    nothing that was committed; a power cut or OS crash can lose the last
    transactions committed before it (never corrupting the file). Pass
    ``synchronous="FULL"`` to fsync every commit, at a cost in write rate.

    Schema: versioned in the ``schema_version`` table; opening a file applies
    the missing migrations in order (see ``fmc.store._sqlite_schema``).

    Args:
        path: The database file; created with its schema if missing.
        busy_timeout: Seconds a statement waits for a lock held by another
            connection.
        busy_retries: How many times a write still refused as busy is retried.
        synchronous: SQLite's ``synchronous`` setting (OFF, NORMAL, FULL, EXTRA).
        max_idle_connections: How many idle connections the pool keeps open.
        sleep: Called with the seconds to wait between busy retries.

    Raises:
        ConfigurationError: an option is out of range, or ``path`` is ``":memory:"``.
        StoreError: the file cannot be opened, is not a database, or was
            written by a newer fmc.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        busy_retries: int = 5,
        synchronous: str = "NORMAL",
        max_idle_connections: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Open (and if needed create or migrate) the database file."""
        self._path = _checked_path(path)
        if self._path in ("", ":memory:") or self._path.startswith("file::memory:"):
            raise ConfigurationError(
                "SQLiteStore needs a file (each connection would see its own in-memory "
                "database); use MemoryStore for an in-memory store"
            )
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ConfigurationError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}")
        if busy_timeout < 0 or busy_retries < 0 or max_idle_connections < 1:
            raise ConfigurationError(
                "busy_timeout and busy_retries must be >= 0, max_idle_connections >= 1"
            )
        self._pool = SQLitePool(
            self._path,
            busy_timeout=busy_timeout,
            busy_retries=busy_retries,
            synchronous=synchronous.upper(),
            max_idle=max_idle_connections,
            sleep=sleep,
        )
        self._lock = threading.Lock()
        self._dedup_calls = 0
        self._pool.open()

    def __repr__(self) -> str:
        return f"SQLiteStore({self._path!r})"

    def schema_version(self) -> int:
        """Return the schema version of the file."""
        return self._pool.read(
            "read the schema version",
            lambda c: int(c.execute("SELECT max(version) FROM schema_version").fetchone()[0]),
        )

    # -- subscribers -----------------------------------------------------------------

    def get(self, page_id: str, psid: str) -> Subscriber | None:
        """See :meth:`fmc.store.SubscriberStore.get`."""
        row = self._pool.read(
            "read a subscriber",
            lambda c: c.execute(sql.SELECT_SUBSCRIBER, (page_id, psid)).fetchone(),
        )
        return None if row is None else sql.subscriber_from_row(row)

    def record_event(
        self, page_id: str, psid: str, *, at: datetime, interaction: bool, human_agent: bool = False
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.record_event`."""
        self.record_events([EventRecord(page_id, psid, at, interaction, human_agent)])

    def record_events(self, records: Iterable[EventRecord]) -> None:
        """See :meth:`fmc.store.SubscriberStore.record_events`."""
        params = [
            (
                e.page_id,
                e.psid,
                to_micros(e.first_at),
                None if e.interaction_at is None else to_micros(e.interaction_at),
                None if e.human_agent_at is None else to_micros(e.human_agent_at),
            )
            for e in merge_events(records)
        ]
        if params:
            self._pool.write("record events", lambda c: c.executemany(sql.RECORD_EVENT, params))

    def set_status(
        self,
        page_id: str,
        psid: str,
        status: SubscriberStatus,
        *,
        reason: str | None = None,
        at: datetime,
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.set_status`."""
        params = (page_id, psid, SubscriberStatus(status).value, reason, to_micros(at, "at"))
        self._pool.write("set a status", lambda c: c.execute(sql.SET_STATUS, params))

    def update_profile(
        self,
        page_id: str,
        psid: str,
        *,
        name: str | None = None,
        locale: str | None = None,
        timezone: float | None = None,
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.update_profile`."""
        params = (page_id, psid, name, locale, timezone)
        self._pool.write("update a profile", lambda c: c.execute(sql.UPDATE_PROFILE, params))

    def _tokens(self, conn: sqlite3.Connection, page_id: str, psid: str) -> list[NotificationToken]:
        row = conn.execute(
            "SELECT tokens FROM subscribers WHERE page_id = ? AND psid = ?", (page_id, psid)
        ).fetchone()
        return [] if row is None else list(tokens_from_data(json.loads(row[0])))

    def _save_tokens(
        self, conn: sqlite3.Connection, page_id: str, psid: str, tokens: list[NotificationToken]
    ) -> None:
        conn.execute(sql.UPSERT_TOKENS, (page_id, psid, json.dumps(tokens_to_data(tokens))))

    def add_token(self, page_id: str, psid: str, token: NotificationToken) -> None:
        """See :meth:`fmc.store.SubscriberStore.add_token`."""
        tokens_to_data([token])  # rejects naive datetimes before the transaction

        def add(conn: sqlite3.Connection) -> None:
            tokens = [t for t in self._tokens(conn, page_id, psid) if t.token != token.token]
            self._save_tokens(conn, page_id, psid, [*tokens, token])

        self._pool.write("add a token", add)

    def set_token_status(self, page_id: str, psid: str, token: str, status: TokenStatus) -> bool:
        """See :meth:`fmc.store.SubscriberStore.set_token_status`."""
        status = TokenStatus(status)

        def change(conn: sqlite3.Connection) -> bool:
            tokens = self._tokens(conn, page_id, psid)
            if all(t.token != token for t in tokens):
                return False
            changed = [t if t.token != token else attrs.evolve(t, status=status) for t in tokens]
            self._save_tokens(conn, page_id, psid, changed)
            return True

        return self._pool.write("set a token status", change)

    def count(self, page_id: str, *, status: SubscriberStatus | None = None) -> int:
        """See :meth:`fmc.store.SubscriberStore.count`."""
        query = "SELECT count(*) FROM subscribers WHERE page_id = ?"
        params: tuple[str, ...] = (page_id,)
        if status is not None:
            query += " AND status = ?"
            params = (page_id, SubscriberStatus(status).value)
        return int(
            self._pool.read("count subscribers", lambda c: c.execute(query, params).fetchone()[0])
        )

    def iter_subscribers(
        self,
        page_id: str,
        *,
        status: SubscriberStatus | None = None,
        after_psid: str | None = None,
        page_size: int = 500,
    ) -> Iterator[Subscriber]:
        """See :meth:`fmc.store.SubscriberStore.iter_subscribers`."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        query = sql.SUBSCRIBERS_PAGE if status is None else sql.SUBSCRIBERS_PAGE_BY_STATUS
        extra = () if status is None else (SubscriberStatus(status).value,)
        return self._pages(
            query, page_id, extra, after_psid or "", page_size, 1, sql.subscriber_from_row
        )

    def _pages(
        self,
        query: str,
        scope: str,
        extra: tuple[Any, ...],
        after: str,
        page_size: int,
        key_column: int,
        decode: Callable[[tuple[Any, ...]], _T],
    ) -> Iterator[_T]:
        while True:
            params = (scope, after, *extra, page_size)
            rows = self._pool.read("read a page", _fetchall(query, params))
            for row in rows:
                yield decode(row)
            if len(rows) < page_size:
                return
            after = rows[-1][key_column]

    # -- webhook durability ------------------------------------------------------------

    def dedup_check_and_mark(self, key: str, *, now: datetime, window: timedelta) -> bool:
        """See :meth:`fmc.store.SubscriberStore.dedup_check_and_mark`."""
        now_us = to_micros(now, "now")
        cutoff = to_micros(utc(now, "now") - window)
        with self._lock:
            self._dedup_calls += 1
            purge = self._dedup_calls % _PURGE_EVERY == 0

        def mark(conn: sqlite3.Connection) -> bool:
            marked = conn.execute(sql.DEDUP_MARK, (key, now_us, cutoff)).rowcount == 1
            if purge:
                conn.execute("DELETE FROM dedup WHERE seen_at <= ?", (cutoff,))
            return not marked

        return self._pool.write("check a dedup key", mark)

    def outbox_put(self, item: OutboxItem) -> int:
        """See :meth:`fmc.store.SubscriberStore.outbox_put`."""
        params = (
            item.url,
            bytes(item.body),
            json.dumps([list(pair) for pair in item.headers]),
            item.order_key,
            to_micros(item.created_at, "created_at"),
            item.attempts,
            None if item.next_attempt_at is None else to_micros(item.next_attempt_at),
            item.last_error,
        )
        query = (
            "INSERT INTO outbox (url, body, headers, order_key, created_at, attempts, "
            "next_attempt_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        return self._pool.write(
            "store an outbox item", lambda c: int(c.execute(query, params).lastrowid or 0)
        )

    def outbox_due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """See :meth:`fmc.store.SubscriberStore.outbox_due`."""
        params = (to_micros(now, "now"), limit)
        rows = self._pool.read(
            "read the outbox", lambda c: c.execute(sql.OUTBOX_DUE, params).fetchall()
        )
        return [sql.outbox_item_from_row(row) for row in rows]

    def outbox_ack(self, item_id: int) -> None:
        """See :meth:`fmc.store.SubscriberStore.outbox_ack`."""
        self._pool.write(
            "ack an outbox item", lambda c: c.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
        )

    def outbox_defer(
        self, item_id: int, *, next_attempt_at: datetime, attempts: int, last_error: str
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.outbox_defer`."""
        query = "UPDATE outbox SET next_attempt_at = ?, attempts = ?, last_error = ? WHERE id = ?"
        params = (to_micros(next_attempt_at, "next_attempt_at"), attempts, last_error, item_id)
        self._pool.write("defer an outbox item", lambda c: c.execute(query, params))

    def outbox_count(self) -> int:
        """See :meth:`fmc.store.SubscriberStore.outbox_count`."""
        query = "SELECT count(*) FROM outbox"
        return int(self._pool.read("count the outbox", lambda c: c.execute(query).fetchone()[0]))

    # -- broadcast journal -------------------------------------------------------------

    def broadcast_begin(
        self, broadcast_id: str, *, page_id: str, purpose: str, message: str, created_at: datetime
    ) -> BroadcastInfo:
        """See :meth:`fmc.store.SubscriberStore.broadcast_begin`."""
        params = (broadcast_id, page_id, purpose, message, to_micros(created_at, "created_at"))

        def begin(conn: sqlite3.Connection) -> tuple[Any, ...]:
            conn.execute(sql.BROADCAST_INSERT, params)
            return tuple(conn.execute(sql.BROADCAST_SELECT, (broadcast_id,)).fetchone())

        return sql.broadcast_from_row(self._pool.write("begin a broadcast", begin))

    def broadcast_get(self, broadcast_id: str) -> BroadcastInfo | None:
        """See :meth:`fmc.store.SubscriberStore.broadcast_get`."""
        row = self._pool.read(
            "read a broadcast",
            lambda c: c.execute(sql.BROADCAST_SELECT, (broadcast_id,)).fetchone(),
        )
        return None if row is None else sql.broadcast_from_row(row)

    def journal_claim(self, broadcast_id: str, psids: Sequence[str], *, at: datetime) -> list[str]:
        """See :meth:`fmc.store.SubscriberStore.journal_claim`."""
        at_us = to_micros(at, "at")
        query = (
            "INSERT OR IGNORE INTO journal (broadcast_id, psid, state, updated_at) "
            "VALUES (?, ?, 'pending', ?)"
        )

        def claim(conn: sqlite3.Connection) -> list[str]:
            return [
                psid
                for psid in ordered_unique(psids)
                if conn.execute(query, (broadcast_id, psid, at_us)).rowcount == 1
            ]

        return self._pool.write("claim journal entries", claim) if psids else []

    def journal_states(self, broadcast_id: str, psids: Sequence[str]) -> dict[str, JournalState]:
        """See :meth:`fmc.store.SubscriberStore.journal_states`."""
        states: dict[str, JournalState] = {}
        for chunk in _chunks(ordered_unique(psids)):
            query = sql.JOURNAL_STATES.format(psids=_marks(len(chunk)))
            params = (broadcast_id, *chunk)
            rows = self._pool.read("read journal states", _fetchall(query, params))
            states.update((psid, JournalState(state)) for psid, state in rows)
        return states

    def journal_reclaim(
        self,
        broadcast_id: str,
        psids: Sequence[str],
        *,
        from_states: Collection[JournalState],
        at: datetime,
    ) -> list[str]:
        """See :meth:`fmc.store.SubscriberStore.journal_reclaim`."""
        at_us = to_micros(at, "at")
        states = [JournalState(s).value for s in from_states]
        if not psids or not states:
            return []
        query = sql.JOURNAL_RECLAIM.format(states=_marks(len(states)))

        def reclaim(conn: sqlite3.Connection) -> list[str]:
            return [
                psid
                for psid in ordered_unique(psids)
                if conn.execute(query, (at_us, broadcast_id, psid, *states)).rowcount == 1
            ]

        return self._pool.write("reclaim journal entries", reclaim)

    def journal_record(self, entries: Sequence[JournalEntry]) -> None:
        """See :meth:`fmc.store.SubscriberStore.journal_record`."""
        params = [
            (
                e.broadcast_id,
                e.psid,
                JournalState(e.state).value,
                e.message_id,
                e.detail,
                None if e.updated_at is None else to_micros(e.updated_at, "updated_at"),
            )
            for e in entries
        ]
        if params:
            self._pool.write(
                "record journal entries", lambda c: c.executemany(sql.JOURNAL_RECORD, params)
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
        values = () if states is None else tuple(JournalState(s).value for s in states)
        query = sql.JOURNAL_PAGE
        if states is not None:
            query = sql.JOURNAL_PAGE_BY_STATES.format(states=_marks(len(values)) or "NULL")
        return self._pages(query, broadcast_id, values, "", page_size, 1, sql.entry_from_row)

    def journal_counts(self, broadcast_id: str) -> dict[JournalState, int]:
        """See :meth:`fmc.store.SubscriberStore.journal_counts`."""
        query = "SELECT state, count(*) FROM journal WHERE broadcast_id = ? GROUP BY state"
        rows = self._pool.read(
            "count journal entries", lambda c: c.execute(query, (broadcast_id,)).fetchall()
        )
        counts = dict.fromkeys(JournalState, 0)
        counts.update((JournalState(state), n) for state, n in rows)
        return counts

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the idle connections; connections in use close when released."""
        self._pool.close()

    def __enter__(self) -> SQLiteStore:
        """Return the store itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()
