"""Connections to one SQLite file and the transaction runner of :class:`~fmc.store.SQLiteStore`.

It has the :class:`~fmc.store._sql_store.Pool` interface, like the PostgreSQL pool.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from fmc.errors import StoreError
from fmc.store import _sqlite_schema as sql
from fmc.store._retry import retrying

__all__ = ["SQLitePool"]

_T = TypeVar("_T")


def _create_private(path: str) -> None:
    """Create a missing database file readable by its owner only.

    The file holds notification tokens (credentials to message people) and the
    bodies of forwarded deliveries; SQLite gives its WAL and shared-memory files
    the same permissions as the database file.
    """
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:
        return  # it exists, or SQLite reports why it cannot be opened
    os.close(descriptor)


def _is_busy(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return "database is locked" in text or "busy" in text


class SQLitePool:
    """A pool of autocommit connections to one file, each used by one thread at a time.

    Connections are opened on demand and up to ``max_idle`` are kept for
    reuse, so servers that start a thread per request do not leak them.

    Args:
        path: The database file.
        busy_timeout: Seconds a statement waits for another connection's lock.
        busy_retries: How many times an operation still refused as busy is retried.
        synchronous: The ``synchronous`` pragma (already validated).
        max_idle: How many idle connections are kept.
        sleep: Called with the seconds to wait between busy retries.
    """

    def __init__(
        self,
        path: str,
        *,
        busy_timeout: float,
        busy_retries: int,
        synchronous: str,
        max_idle: int,
        sleep: Callable[[float], None],
    ) -> None:
        """Remember the settings; :meth:`open` connects."""
        self.path = path
        self._busy_timeout = busy_timeout
        self._busy_retries = busy_retries
        self._synchronous = synchronous
        self._max_idle = max_idle
        self._sleep = sleep
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False

    def open(self) -> None:
        """Connect, switch the file to WAL and apply missing migrations.

        Raises:
            StoreError: the file cannot be opened, is not a database, cannot
                use WAL, or was written by a newer fmc.
        """
        _create_private(self.path)
        conn = self._connect()
        try:
            mode = self._retrying(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
            if str(mode).lower() != "wal":
                raise StoreError(f"SQLite could not put {self.path!r} in WAL mode (got {mode!r})")
            self._retrying(lambda: sql.migrate(conn))
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"SQLite could not open {self.path!r}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        self._release(conn)

    def _connect(self) -> sqlite3.Connection:
        try:
            # ``timeout`` is SQLite's busy timeout: how long a statement waits for a lock.
            conn = sqlite3.connect(
                self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite could not open {self.path!r}: {exc}") from exc
        return conn

    def _acquire(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise StoreError("the SQLiteStore is closed")
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _release(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._max_idle and not conn.in_transaction:
                self._idle.append(conn)
                return
        conn.close()

    def _retrying(self, operation: Callable[[], _T], deadline: float | None = None) -> _T:
        return retrying(
            operation,
            retries=self._busy_retries,
            retryable=_is_busy,
            sleep=self._sleep,
            deadline=deadline,
        )

    def _bound(self, conn: sqlite3.Connection, deadline: float | None) -> None:
        """Make the next statement wait for locks no longer than the deadline allows."""
        if deadline is not None:
            remaining = max(deadline - time.monotonic(), 0.0)
            wait = min(remaining, self._busy_timeout)
            conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")

    def _run(
        self,
        what: str,
        operation: Callable[[sqlite3.Connection], _T],
        write: bool,
        timeout: float | None = None,
    ) -> _T:
        conn = self._acquire()
        deadline = None if timeout is None else time.monotonic() + timeout

        def attempt() -> _T:
            self._bound(conn, deadline)
            if not write:
                return operation(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = operation(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

        try:
            return self._retrying(attempt, deadline)
        except sqlite3.Error as exc:
            bound = "" if timeout is None else f" within {timeout:g} s"
            raise StoreError(f"SQLite could not {what}{bound} in {self.path!r}: {exc}") from exc
        finally:
            if deadline is None or self._unbound(conn):
                self._release(conn)
            else:
                conn.close()

    def _unbound(self, conn: sqlite3.Connection) -> bool:
        """Give the connection its usual busy timeout back; False if it cannot be."""
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        except sqlite3.Error:
            return False
        return True

    def read(self, what: str, operation: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``operation`` on a connection outside any explicit transaction.

        Args:
            what: What is being done, for the error message.
            operation: Reads through the connection; may run again if busy.

        Raises:
            StoreError: SQLite failed, or stayed busy through every retry.
        """
        return self._run(what, operation, write=False)

    def write(
        self,
        what: str,
        operation: Callable[[sqlite3.Connection], _T],
        *,
        timeout: float | None = None,
        single_statement: bool = False,
    ) -> _T:
        """Run ``operation`` in ``BEGIN IMMEDIATE`` ... ``COMMIT``, retried whole if busy.

        Args:
            what: What is being done, for the error message.
            operation: Reads and writes through the connection; rolled back on
                any exception, and run again from scratch after a busy error.
            timeout: Seconds the whole write may wait for locks, retries
                included; ``None``: ``busy_timeout`` per attempt.
            single_statement: Accepted for the pool interface; SQLite takes
                its write lock up front either way (a transaction costs no
                round trip in-process).

        Raises:
            StoreError: SQLite failed, or stayed busy through every retry or
                past ``timeout``.
        """
        return self._run(what, operation, write=True, timeout=timeout)

    def close(self) -> None:
        """Close idle connections; connections in use close when released."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
