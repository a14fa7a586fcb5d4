"""Connections to PostgreSQL and the transaction runner of :class:`~fmc.store.PostgresStore`.

psycopg is imported by :func:`import_psycopg`, called when a store is created.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fmc.errors import ConfigurationError, StoreError

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

    def _connect(self) -> Any:
        pg = self.pg
        try:
            conn = pg.connect(
                self._dsn, autocommit=True, connect_timeout=max(1, round(self._connect_timeout))
            )
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

    def _acquire(self) -> Any:
        with self._cond:
            deadline = time.monotonic() + self._acquire_timeout
            while not self._closed and not self._idle and self._open >= self._max:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StoreError(
                        f"no free PostgreSQL connection within {self._acquire_timeout} s "
                        f"(max_connections={self._max})"
                    )
                self._cond.wait(remaining)
            if self._closed:
                raise StoreError("the PostgresStore is closed")
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            return self._connect()
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

    def run(self, what: str, operation: Callable[[Any], _T], *, write: bool = True) -> _T:
        """Run ``operation`` on a pooled connection, in a transaction if ``write``.

        Args:
            what: What is being done, for the error message.
            operation: Works through the connection; a write is rolled back on
                any exception and run again after a deadlock or serialization
                failure.
            write: Wrap the operation in ``BEGIN`` ... ``COMMIT``.

        Raises:
            StoreError: PostgreSQL failed.
        """
        pg = self.pg
        retryable = (pg.errors.DeadlockDetected, pg.errors.SerializationFailure)
        for attempt in range(self._retries + 1):
            conn = self._acquire()
            broken = False
            try:
                if not write:
                    return operation(conn)
                with conn.transaction():
                    return operation(conn)
            except retryable as exc:
                if attempt == self._retries:
                    raise StoreError(f"PostgreSQL could not {what}: {exc}") from exc
            except pg.Error as exc:
                broken = bool(conn.closed or conn.broken)
                raise StoreError(f"PostgreSQL could not {what}: {redact_dsn(str(exc))}") from exc
            finally:
                self._release(conn, broken=broken)
            self._sleep(min(0.05 * 2**attempt, 1.0))
        raise AssertionError("unreachable")  # pragma: no cover

    def rows(self, what: str, query: Any, params: Sequence[Any] = ()) -> list[Any]:
        """Run one query outside a transaction and return all its rows."""
        return self.run(what, lambda c: c.execute(query, params).fetchall(), write=False)

    def close(self) -> None:
        """Close idle connections; connections in use close when released."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()
