"""The default subscriber store: one SQLite file, safe for many threads and processes."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from fmc.errors import ConfigurationError, StoreError
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import NotificationToken, Subscriber, SubscriberStatus, TokenStatus
from fmc.store import _sqlite_delivery as delivery_sql
from fmc.store import _sqlite_schema as sql
from fmc.store._codec import (
    merge_events,
    to_micros,
    tokens_to_data,
    utc,
)
from fmc.store._dialect import SQLITE
from fmc.store._journal_sql import SQLJournal
from fmc.store._registry_sql import SQLRegistry
from fmc.store._sqlite_pool import SQLitePool
from fmc.store.base import EventRecord
from fmc.store.delivery import DeliveryResult, DeliveryWrite

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


class SQLiteStore(SQLJournal, SQLRegistry):
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
        self._init_journal(SQLITE, write=self._pool.write, read=self._pool.read)
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
        params = [delivery_sql.record_params(e) for e in merge_events(records)]
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
        at_us = to_micros(at, "at")
        params = (page_id, psid, SubscriberStatus(status).value, reason, at_us, at_us)
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

    def add_token(self, page_id: str, psid: str, token: NotificationToken) -> None:
        """See :meth:`fmc.store.SubscriberStore.add_token`."""
        data = tokens_to_data([token])  # rejects naive datetimes before the transaction

        def add(conn: sqlite3.Connection) -> None:
            kept = delivery_sql.tokens(conn, page_id, psid)
            kept = [t for t in kept if t["token"] != token.token]
            delivery_sql.save_tokens(conn, page_id, psid, [*kept, *data])

        self._pool.write("add a token", add)

    def set_token_status(self, page_id: str, psid: str, token: str, status: TokenStatus) -> bool:
        """See :meth:`fmc.store.SubscriberStore.set_token_status`."""
        status = TokenStatus(status)

        def change(conn: sqlite3.Connection) -> bool:
            tokens = delivery_sql.tokens(conn, page_id, psid)
            if all(t["token"] != token for t in tokens):
                return False
            changed = [t if t["token"] != token else {**t, "status": status.value} for t in tokens]
            delivery_sql.save_tokens(conn, page_id, psid, changed)
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
        purge = self._count_dedup_call()

        def mark(conn: sqlite3.Connection) -> bool:
            marked = conn.execute(sql.DEDUP_MARK, (key, now_us, cutoff)).rowcount == 1
            if purge:
                conn.execute("DELETE FROM dedup WHERE seen_at <= ?", (cutoff,))
            return not marked

        return self._pool.write("check a dedup key", mark)

    def apply_delivery(
        self, write: DeliveryWrite, *, timeout: float | None = None
    ) -> DeliveryResult:
        """See :meth:`fmc.store.SubscriberStore.apply_delivery`."""
        apply = delivery_sql.transaction(write, purge=self._count_dedup_call())
        return self._pool.write("commit a webhook delivery", apply, timeout=timeout)

    def _count_dedup_call(self) -> bool:
        with self._lock:
            self._dedup_calls += 1
            return self._dedup_calls % _PURGE_EVERY == 0

    def outbox_put(self, item: OutboxItem) -> int:
        """See :meth:`fmc.store.SubscriberStore.outbox_put`."""
        params = delivery_sql.outbox_params(item)
        return self._pool.write(
            "store an outbox item",
            lambda c: int(c.execute(sql.OUTBOX_INSERT, params).lastrowid or 0),
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
