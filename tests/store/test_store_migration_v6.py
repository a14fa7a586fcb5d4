"""SQLite schema version 6: the journal keeps no state index; its entries stay."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from fmc.models.broadcast import JournalEntry, JournalState
from fmc.store import SQLiteStore
from fmc.store import _sqlite_schema as schema

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def indexes(path: Path) -> set[str]:
    """The names of the journal table's indexes in the file."""
    with sqlite3.connect(path) as conn:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'journal'"
        return {row[0] for row in conn.execute(query)}


def test_a_new_file_has_no_journal_state_index(tmp_path: Path) -> None:
    """A fresh database ends at version 6 with no index on the journal beside its key."""
    path = tmp_path / "fmc.db"
    with SQLiteStore(path) as store:
        assert store.schema_version() == 6
    assert indexes(path) == set()


def test_a_version_5_file_loses_the_index_and_keeps_its_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrading from version 5 drops the index; the journal's entries and counts stay."""
    path = tmp_path / "fmc.db"
    newest = schema.MIGRATIONS
    monkeypatch.setattr(schema, "MIGRATIONS", tuple(m for m in newest if m[0] <= 5))
    with SQLiteStore(path) as old:
        old.journal_record([JournalEntry("b1", "p1", JournalState.SENT, "m.1", None, T0)])
        old.journal_record([JournalEntry("b1", "p2", JournalState.SKIPPED, None, "opted out", T0)])
    assert "journal_state" in indexes(path)
    monkeypatch.setattr(schema, "MIGRATIONS", newest)
    with SQLiteStore(path) as upgraded:
        assert upgraded.schema_version() == 6
        counts = upgraded.journal_counts("b1")
        entries = [(e.psid, e.state) for e in upgraded.journal_entries("b1")]
    assert "journal_state" not in indexes(path)
    assert (counts[JournalState.SENT], counts[JournalState.SKIPPED]) == (1, 1)
    assert entries == [("p1", JournalState.SENT), ("p2", JournalState.SKIPPED)]
