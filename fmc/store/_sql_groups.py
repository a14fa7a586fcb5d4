"""How the SQL journal runs its statements: reads, groups of rows, and one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = [
    "PartlyChangedError",
    "Transaction",
    "all_changed",
    "changed_rows",
    "fetchall",
    "returned",
    "serialized",
]

_T = TypeVar("_T")

#: Runs a function in one write transaction: ``(what, operation) -> result``.
Transaction = Callable[[str, Callable[[Any], _T]], _T]


def fetchall(query: str, params: Sequence[Any]) -> Callable[[Any], list[Any]]:
    """An operation that runs ``query`` and returns all its rows."""

    def fetch(conn: Any) -> list[Any]:
        return list(conn.execute(query, params).fetchall())

    return fetch


def returned(
    conn: Any,
    query: str,
    rows: Sequence[Sequence[Any]],
    *,
    execute_one: Callable[[Any, str, Sequence[Any]], Any],
) -> list[Any]:
    """Run ``query`` (which ends in ``RETURNING``) once per row; every row it returned.

    A single row, one statement over a whole group, runs through
    ``execute_one`` (the dialect's ``execute_fresh``: planned for the journal
    as it is now); more rows go in one ``executemany``.
    """
    if len(rows) == 1:
        return list(execute_one(conn, query, rows[0]).fetchall())
    cursor = conn.cursor()
    cursor.executemany(query, rows, returning=True)
    back: list[Any] = []
    while True:
        back.extend(cursor.fetchall())
        if not cursor.nextset():
            return back


def changed_rows(conn: Any, query: str, rows: Sequence[Sequence[Any]]) -> int:
    """Run ``query`` once per row in one go; how many rows it changed in all."""
    cursor = conn.cursor()
    cursor.executemany(query, rows)
    return int(cursor.rowcount)


class PartlyChangedError(Exception):
    """Raised inside a transaction by :func:`all_changed`, to roll it back."""


def all_changed(conn: Any, query: str, rows: Sequence[Sequence[Any]], expected: int) -> None:
    """Run ``query`` once per row; raise :class:`PartlyChangedError` unless ``expected`` changed."""
    if changed_rows(conn, query, rows) != expected:
        raise PartlyChangedError


def serialized(write: Transaction[Any], lock: threading.Lock) -> Transaction[Any]:
    """``write``, with the process's own callers taking turns on ``lock``.

    For SQLite, which has one writer at a time: a waiting writer is woken as
    soon as the lock is free, instead of sleeping in SQLite's busy handler
    (1 ms, then longer) while the file is already free again. Every writer of
    one database must share the one lock.
    """

    def run(what: str, operation: Callable[[Any], Any]) -> Any:
        with lock:
            return write(what, operation)

    return run
