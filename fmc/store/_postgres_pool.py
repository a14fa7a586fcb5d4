"""Connections to PostgreSQL and the transaction runner of :class:`~fmc.store.PostgresStore`.

It has the :class:`~fmc.store._sql_store.Pool` interface, like the SQLite pool.

psycopg is imported by :func:`import_psycopg`, called when a store is created.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from fmc.errors import ConfigurationError, StoreError
from fmc.store._retry import retrying

__all__ = ["PostgresPool", "import_psycopg", "redact_dsn"]

_T = TypeVar("_T")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)\S*@")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", re.IGNORECASE)


def redact_dsn(text: str) -> str:
    """Hide passwords in a DSN or in a message quoting one.

    Both forms are covered: ``postgresql://user:secret@host`` becomes
    ``postgresql://user:***@host`` and ``password=secret`` becomes
    ``password=***``.
    """
    return _KV_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


def import_psycopg() -> Any:
    """Import psycopg 3.

    Raises:
        ConfigurationError: it is not installed.
    """
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigurationError(
            "PostgresStore needs psycopg 3: pip install 'fmc-messenger[postgres]'"
        ) from exc
    return psycopg


class PostgresPool:
    """A lock-protected pool of autocommit connections, each used by one thread at a time.

    Args:
        dsn: The connection string (never shown unredacted).
        schema: A schema to put first on every connection's ``search_path``.
        max_connections: At most this many connections are open.
        connect_timeout: Seconds to wait for a connection to be established.
        acquire_timeout: Seconds a thread waits for a free connection.
        retries: How many times a deadlock or serialization failure is retried.
        sleep: Called with the seconds to wait between those retries.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None,
        max_connections: int,
        connect_timeout: float,
        acquire_timeout: float,
        retries: int,
        sleep: Callable[[float], None],
    ) -> None:
        """Import psycopg; connections open on demand."""
        self.pg = import_psycopg()
        self._dsn = dsn
        self._schema = schema
        self._max = max_connections
        self._connect_timeout = connect_timeout
        self._acquire_timeout = acquire_timeout
        self._retries = retries
        self._sleep = sleep
        self._cond = threading.Condition()
        self._idle: list[Any] = []
        self._open = 0
        self._closed = False

    def _connect(self, timeout: float | None = None) -> Any:
        pg = self.pg
        wait = self._connect_timeout if timeout is None else min(timeout, self._connect_timeout)
        try:
            conn = pg.connect(self._dsn, autocommit=True, connect_timeout=max(1, round(wait)))
        except pg.Error as exc:
            # Not chained: the driver's exception is replaced by a redacted message.
            raise StoreError(
                f"PostgreSQL could not connect to {redact_dsn(self._dsn)!r}: "
                f"{redact_dsn(str(exc)).strip()}"
            ) from None
        if self._schema is not None:
            try:
                conn.execute(
                    pg.sql.SQL("SET search_path TO {}, public").format(
                        pg.sql.Identifier(self._schema)
                    )
                )
            except pg.Error as exc:
                conn.close()
                raise StoreError(f"PostgreSQL could not set the search path: {exc}") from exc
        return conn

    def _acquire(self, timeout: float | None = None) -> Any:
        wait = self._acquire_timeout if timeout is None else min(timeout, self._acquire_timeout)
        with self._cond:
            deadline = time.monotonic() + wait
            while not self._closed and not self._idle and self._open >= self._max:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StoreError(
                        f"no free PostgreSQL connection within {wait:g} s "
                        f"(max_connections={self._max})"
                    )
                self._cond.wait(remaining)
            if self._closed:
                raise StoreError("the PostgresStore is closed")
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            return self._connect(timeout)
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def _release(self, conn: Any, *, broken: bool) -> None:
        with self._cond:
            discard = self._closed or broken or bool(conn.closed)
            if discard:
                self._open -= 1
            else:
                self._idle.append(conn)
            self._cond.notify()
        if discard:
            conn.close()

    def read(self, what: str, operation: Callable[[Any], _T]) -> _T:
        """Run ``operation`` on a pooled connection outside any explicit transaction.

        Args:
            what: What is being done, for the error message.
            operation: Reads through the connection.

        Raises:
            StoreError: PostgreSQL failed.
        """
        return self._run(what, operation, write=False, timeout=None)

    def write(
        self,
        what: str,
        operation: Callable[[Any], _T],
        *,
        timeout: float | None = None,
        single_statement: bool = False,
    ) -> _T:
        """Run ``operation`` in one transaction, retried whole after a deadlock.

        Args:
            what: What is being done, for the error message.
            operation: Works through the connection; rolled back on any
                exception and run again after a deadlock or serialization
                failure.
            timeout: Seconds the whole run may take: waiting for a pooled
                connection, connecting, locks and statements (PostgreSQL's
                ``lock_timeout`` and ``statement_timeout``), retries; a server
                that stops answering has its connection cut at the deadline.
            single_statement: ``operation`` runs exactly one statement, which
                PostgreSQL makes atomic on its own: it goes without ``BEGIN``
                and ``COMMIT`` (one round trip instead of three). Ignored with
                a ``timeout``, whose limits need a transaction.

        Raises:
            StoreError: PostgreSQL failed, or did not finish within ``timeout``.
        """
        bare = single_statement and timeout is None
        return self._run(what, operation, write=not bare, timeout=timeout)

    def _run(
        self, what: str, operation: Callable[[Any], _T], *, write: bool, timeout: float | None
    ) -> _T:
        # write: inside BEGIN ... COMMIT; else the statements run as autocommit.
        retryable = (self.pg.errors.DeadlockDetected, self.pg.errors.SerializationFailure)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            return retrying(
                lambda: self._attempt(what, operation, write, timeout, deadline),
                retries=self._retries,
                retryable=lambda exc: isinstance(exc, retryable),
                sleep=self._sleep,
            )
        except retryable as exc:
            raise StoreError(f"PostgreSQL could not {what}: {exc}") from exc

    def _attempt(
        self,
        what: str,
        operation: Callable[[Any], _T],
        write: bool,
        timeout: float | None,
        deadline: float | None,
    ) -> _T:
        """One try; a deadlock or serialization failure escapes as psycopg raised it."""
        pg = self.pg
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise StoreError(f"PostgreSQL could not {what} within {timeout:g} s")
        conn = self._acquire(remaining)
        broken = False
        watchdog = None if remaining is None else _Watchdog(conn, remaining)
        try:
            if not write:
                return operation(conn)
            with conn.transaction():
                if remaining is not None:
                    _limit_statements(conn, remaining)
                return operation(conn)
        except (pg.errors.DeadlockDetected, pg.errors.SerializationFailure):
            raise
        except pg.Error as exc:
            broken = bool(conn.closed or conn.broken)
            if watchdog is not None and watchdog.fired:
                raise StoreError(
                    f"PostgreSQL could not {what} within {timeout:g} s (no answer)"
                ) from None
            raise StoreError(f"PostgreSQL could not {what}: {redact_dsn(str(exc))}") from exc
        finally:
            if watchdog is not None:
                broken = watchdog.stop() or broken
            self._release(conn, broken=broken)

    def close(self) -> None:
        """Close idle connections; connections in use close when released."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()


def _limit_statements(conn: Any, seconds: float) -> None:
    """Bound lock waits and statements of the current transaction, server side."""
    millis = str(max(int(seconds * 1000), 1))
    conn.execute(
        "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
        (millis, millis),
    )


class _Watchdog:
    """Cuts a connection's socket if a run outlives its deadline (a server that went silent).

    Server-side timeouts cannot help when the server, or the network to it,
    stops answering; shutting the socket down makes the blocked call fail at once.
    """

    _GRACE = 0.25

    def __init__(self, conn: Any, seconds: float) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._done = False
        self.fired = False
        self._timer = threading.Timer(seconds + self._GRACE, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            try:
                fd = os.dup(self._conn.pgconn.socket)
            except Exception:
                return
            with socket.socket(fileno=fd) as sock, contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> bool:
        """Stop watching; True when it fired (the connection is then broken)."""
        self._timer.cancel()
        with self._lock:
            self._done = True
            return self.fired
