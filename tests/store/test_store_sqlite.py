"""What only SQLiteStore promises: WAL, versioned migrations, busy retries, shared files."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fmc.errors import ConfigurationError, StoreError
from fmc.models.subscriber import SubscriberStatus
from fmc.store import EventRecord, SQLiteStore
from fmc.store import _sqlite_schema as schema

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
PAGE = "page-1"
NEWEST = schema.MIGRATIONS[-1][0]


def versions(path: Path) -> list[int]:
    """The versions recorded in a file's schema_version table."""
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY 1")]


class TestOpening:
    def test_new_file_is_wal_and_current(self, tmp_path: Path) -> None:
        """A new file is created in WAL mode at the newest schema version."""
        path = tmp_path / "new.db"
        with SQLiteStore(path) as store:
            assert store.schema_version() == NEWEST
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert versions(path) == [v for v, _ in schema.MIGRATIONS]

    def test_empty_file_is_migrated(self, tmp_path: Path) -> None:
        """An existing empty file gets the whole schema."""
        path = tmp_path / "empty.db"
        path.touch()
        with SQLiteStore(path) as store:
            store.record_event(PAGE, "u1", at=T0, interaction=True)
            assert store.count(PAGE) == 1

    def test_reopen_keeps_data_and_migrates_once(self, tmp_path: Path) -> None:
        """Reopening a file keeps its data and applies no migration twice."""
        path = tmp_path / "again.db"
        with SQLiteStore(path) as store:
            store.record_event(PAGE, "u1", at=T0, interaction=True)
        with SQLiteStore(path) as store:
            assert store.get(PAGE, "u1") is not None
        assert versions(path) == [v for v, _ in schema.MIGRATIONS]

    def test_later_migrations_apply_in_order(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A file at an older version gets only the newer migrations, in order."""
        path = tmp_path / "old.db"
        SQLiteStore(path).close()
        extra = (
            (NEWEST + 1, ("CREATE TABLE extra_a (x INTEGER)",)),
            (NEWEST + 2, ("INSERT INTO extra_a VALUES (7)", "CREATE TABLE extra_b (y TEXT)")),
        )
        monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS + extra)
        with SQLiteStore(path) as store:
            assert store.schema_version() == NEWEST + 2
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT x FROM extra_a").fetchall() == [(7,)]
        assert versions(path)[-2:] == [NEWEST + 1, NEWEST + 2]

    def test_newer_file_is_refused(self, tmp_path: Path) -> None:
        """A file migrated by a newer fmc raises StoreError instead of being touched."""
        path = tmp_path / "future.db"
        SQLiteStore(path).close()
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO schema_version VALUES (?, 'later')", (NEWEST + 1,))
        with pytest.raises(StoreError, match="newer than this fmc"):
            SQLiteStore(path)

    @pytest.mark.parametrize(
        "make_path",
        [
            lambda tmp: tmp / "missing-dir" / "x.db",
            lambda tmp: (
                (tmp / "junk.db").write_bytes(b"not a database, clearly" * 100) and tmp / "junk.db"
            ),
        ],
        ids=["missing-directory", "not-a-database"],
    )
    def test_unusable_file(self, tmp_path: Path, make_path: object) -> None:
        """A path that cannot hold a database raises StoreError naming the file."""
        path = make_path(tmp_path)  # type: ignore[operator]
        with pytest.raises(StoreError, match=r"x\.db|junk\.db"):
            SQLiteStore(path)

    @pytest.mark.parametrize(
        ("path", "options"),
        [
            (":memory:", {}),
            ("", {}),
            ("f.db", {"synchronous": "SOMETIMES"}),
            ("f.db", {"busy_retries": -1}),
            ("f.db", {"max_idle_connections": 0}),
        ],
        ids=["memory", "empty", "synchronous", "retries", "idle"],
    )
    def test_bad_configuration(self, tmp_path: Path, path: str, options: dict[str, object]) -> None:
        """In-memory paths and out-of-range options raise ConfigurationError."""
        target = path if path in ("", ":memory:") else str(tmp_path / path)
        with pytest.raises(ConfigurationError):
            SQLiteStore(target, **options)  # type: ignore[arg-type]

    def test_closed_store_refuses_work(self, tmp_path: Path) -> None:
        """A closed store raises StoreError."""
        store = SQLiteStore(tmp_path / "c.db")
        store.close()
        with pytest.raises(StoreError, match="closed"):
            store.count(PAGE)

    def test_full_synchronous_works(self, tmp_path: Path) -> None:
        """synchronous='full' is accepted and the store works."""
        with SQLiteStore(tmp_path / "full.db", synchronous="full") as store:
            store.record_event(PAGE, "u1", at=T0, interaction=True)
            assert store.count(PAGE) == 1


class TestBusy:
    def test_busy_write_is_retried(self, tmp_path: Path) -> None:
        """A write refused as busy is retried after a pause and then succeeds."""
        path = tmp_path / "busy.db"
        blocker = sqlite3.connect(path, isolation_level=None)
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            if blocker.in_transaction:
                blocker.execute("COMMIT")

        store = SQLiteStore(path, busy_timeout=0, busy_retries=3, sleep=sleep)
        blocker.execute("BEGIN IMMEDIATE")
        store.record_event(PAGE, "u1", at=T0, interaction=True)
        assert len(sleeps) == 1
        assert store.count(PAGE) == 1
        store.close()
        blocker.close()

    def test_busy_beyond_retries_is_a_store_error(self, tmp_path: Path) -> None:
        """A write still busy after every retry raises StoreError, never sqlite3's error."""
        path = tmp_path / "stuck.db"
        sleeps: list[float] = []
        store = SQLiteStore(path, busy_timeout=0, busy_retries=2, sleep=sleeps.append)
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match="locked") as caught:
            store.record_event(PAGE, "u1", at=T0, interaction=True)
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        assert sleeps == [0.05, 0.1]
        blocker.execute("ROLLBACK")
        assert store.count(PAGE) == 0
        store.close()
        blocker.close()


class TestConcurrency:
    def test_iteration_holds_no_snapshot(self, tmp_path: Path) -> None:
        """A suspended iteration pins no read snapshot: a full WAL checkpoint succeeds."""
        path = tmp_path / "snap.db"
        with SQLiteStore(path) as store:
            store.record_events(EventRecord(PAGE, f"u{i}", T0, True) for i in range(5))
            stream = store.iter_subscribers(PAGE, page_size=2)
            next(stream)
            store.record_event(PAGE, "zz-late", at=T0, interaction=True)
            with sqlite3.connect(path) as conn:
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0
            assert len(list(stream)) == 5

    def test_writers_and_a_reader_share_the_file(self, tmp_path: Path) -> None:
        """8 threads register 4,000 people while another thread iterates: none lost, no error."""
        path = tmp_path / "drill.db"
        store = SQLiteStore(path)
        other = SQLiteStore(path)  # a second instance, as another process would hold
        errors: list[BaseException] = []
        writing = threading.Event()
        passes: list[int] = []

        def write(worker: int) -> None:
            target = store if worker % 2 else other
            try:
                for batch in range(25):
                    target.record_events(
                        EventRecord(PAGE, f"w{worker}-{batch:02d}-{i:02d}", T0, True)
                        for i in range(20)
                    )
                    target.set_status(
                        PAGE, f"w{worker}-{batch:02d}-00", SubscriberStatus.ACTIVE, at=T0
                    )
            except BaseException as exc:
                errors.append(exc)

        def read() -> None:
            try:
                while writing.is_set():
                    psids = [s.psid for s in store.iter_subscribers(PAGE, page_size=100)]
                    assert psids == sorted(set(psids))
                    passes.append(len(psids))
            except BaseException as exc:
                errors.append(exc)

        writers = [threading.Thread(target=write, args=(w,)) for w in range(8)]
        reader = threading.Thread(target=read)
        writing.set()
        reader.start()
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        writing.clear()
        reader.join()
        assert errors == []
        assert store.count(PAGE) == 8 * 25 * 20
        assert passes
        store.close()
        other.close()

    def test_registration_keeps_earliest_first_seen_across_threads(self, tmp_path: Path) -> None:
        """Threads recording the same people at different times keep the earliest and latest."""
        store = SQLiteStore(tmp_path / "race.db")

        def write(worker: int) -> None:
            when = T0 + timedelta(minutes=worker)
            for _ in range(5):
                store.record_events(EventRecord(PAGE, f"u{i}", when, True) for i in range(50))

        threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for sub in store.iter_subscribers(PAGE):
            assert sub.first_seen_at == T0
            assert sub.last_interaction_at == T0 + timedelta(minutes=7)
        assert store.count(PAGE) == 50
        store.close()
