"""apply_delivery gives up within its timeout when the database is locked, and commits nothing."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fmc.errors import StoreError
from fmc.store import EventRecord, PostgresStore, SQLiteStore
from fmc.store.delivery import DeliveryWrite, EventEffects

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
PAGE = "page-1"
#: Generous: the bound is the timeout, the slack covers a loaded machine.
SLACK = 2.0


def one_message(key: str = "mid:1") -> DeliveryWrite:
    """A delivery of one message from p1."""
    effects = EventEffects(records=[EventRecord(PAGE, "p1", T0, interaction=True)])
    return DeliveryWrite(keys=[key], effects=[effects], now=T0, window=timedelta(hours=1))


def test_sqlite_locked_by_an_exclusive_transaction(tmp_path: Path) -> None:
    """Another connection's exclusive transaction: StoreError within the timeout, nothing kept."""
    path = tmp_path / "fmc.db"
    with SQLiteStore(path) as store:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            started = time.monotonic()
            with pytest.raises(StoreError, match=r"within 0\.3 s"):
                store.apply_delivery(one_message(), timeout=0.3)
            took = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert took < 0.3 + SLACK
        assert store.get(PAGE, "p1") is None
        assert store.apply_delivery(one_message(), timeout=0.3).fresh == (True,)


def test_sqlite_connection_gets_its_busy_timeout_back(tmp_path: Path) -> None:
    """After a bounded write the pooled connection waits busy_timeout again, not the bound."""
    path = tmp_path / "fmc.db"
    with SQLiteStore(path, busy_timeout=3.0) as store:
        store.apply_delivery(one_message(), timeout=0.2)
        conn = store._pool._acquire()
        try:
            assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 3000
        finally:
            store._pool._release(conn)


@pytest.mark.postgres
def test_postgres_row_locked_by_another_transaction(
    postgres_dsn: str, postgres_schema: str
) -> None:
    """A dedup key locked by another transaction: StoreError within the timeout, nothing kept."""
    import psycopg

    with PostgresStore(postgres_dsn, schema=postgres_schema) as store:
        store.apply_delivery(one_message("mid:0"))
        holder = psycopg.connect(postgres_dsn)
        holder.execute(f'SET search_path TO "{postgres_schema}"')
        holder.execute("LOCK TABLE dedup IN ACCESS EXCLUSIVE MODE")
        try:
            started = time.monotonic()
            with pytest.raises(StoreError):
                store.apply_delivery(one_message(), timeout=0.5)
            took = time.monotonic() - started
        finally:
            holder.rollback()
            holder.close()
        assert took < 0.5 + SLACK
        assert store.apply_delivery(one_message(), timeout=0.5).fresh == (True,)
