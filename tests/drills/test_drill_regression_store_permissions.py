"""Regression (found while writing the threat model): the SQLite file was world-readable.

``SQLiteStore`` let SQLite create its file with the process umask, typically
giving ``0644``: every user of the machine could read the notification tokens
(credentials to message people) and the bodies of forwarded deliveries. A new
file is now created readable by its owner only, and SQLite gives its WAL and
shared-memory files the same permissions.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import drill_support as ds
import pytest

import fmc

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("usual_umask")
def test_a_new_store_file_and_its_wal_are_private(tmp_path: Path) -> None:
    """The database, -wal and -shm files grant nothing to group or others."""
    db = tmp_path / "fmc.db"
    with fmc.SQLiteStore(db) as store:
        ds.register(store, ["p1"])
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}
    assert modes == {path.name: 0o600 for path in files}


@pytest.mark.usefixtures("usual_umask")
def test_an_existing_file_keeps_the_permissions_its_owner_chose(tmp_path: Path) -> None:
    """fmc does not change the mode of a file that already exists."""
    db = tmp_path / "shared.db"
    db.touch(mode=0o640)
    with fmc.SQLiteStore(db):
        pass
    assert stat.S_IMODE(db.stat().st_mode) == 0o640
