"""The default subscriber store: one SQLite file, safe for many threads and processes."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable

from fmc.errors import ConfigurationError, StoreError
from fmc.store._dialect import SQLITE
from fmc.store._sql_store import SQLStore
from fmc.store._sqlite_pool import SQLitePool

__all__ = ["SQLiteStore"]

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


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


class SQLiteStore(SQLStore):
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
        ConfigurationError: an option is out of range, ``path`` is ``":memory:"``, or
            Python's SQLite library is older than 3.35.
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
        _check_library(sqlite3.sqlite_version_info)
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
        pool = SQLitePool(
            self._path,
            busy_timeout=busy_timeout,
            busy_retries=busy_retries,
            synchronous=synchronous.upper(),
            max_idle=max_idle_connections,
            sleep=sleep,
        )
        self._init_sql(SQLITE, pool)
        pool.open()

    def __repr__(self) -> str:
        return f"SQLiteStore({self._path!r})"


#: The journal writes a group with ``INSERT … RETURNING`` (SQLite 3.35, March 2021).
MIN_SQLITE = (3, 35, 0)


def _check_library(version: tuple[int, int, int]) -> None:
    """Refuse an SQLite library too old for the store's statements, saying what to do."""
    if version < MIN_SQLITE:
        found = ".".join(map(str, version))
        raise ConfigurationError(
            f"SQLiteStore needs SQLite {'.'.join(map(str, MIN_SQLITE))} or newer, but Python's "
            f"sqlite3 module uses SQLite {found}; run a Python built against a newer SQLite "
            "or use PostgresStore"
        )
