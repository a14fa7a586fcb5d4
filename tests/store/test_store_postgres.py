"""What only PostgresStore promises: no password shown, lazy import, schemas, a bounded pool."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timezone
from typing import Any

import pytest

from fmc.errors import ConfigurationError, StoreError
from fmc.store import EventRecord, PostgresStore
from fmc.store import _postgres_schema as schema
from fmc.store.postgres import redact_dsn

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
PAGE = "page-1"
SECRET = "s3cr3t-Pw"


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        (
            f"postgresql://fmc:{SECRET}@db.example:5432/fmc",
            "postgresql://fmc:***@db.example:5432/fmc",
        ),
        (f"postgres://fmc:p@ss:{SECRET}@db/fmc", "postgres://fmc:***@db/fmc"),
        (
            f"host=db user=fmc password={SECRET} dbname=fmc",
            "host=db user=fmc password=*** dbname=fmc",
        ),
        (f"host=db password = '{SECRET} x' dbname=fmc", "host=db password = *** dbname=fmc"),
        (
            f"postgresql://db/fmc?user=fmc&password={SECRET}&x=1",
            "postgresql://db/fmc?user=fmc&password=***&x=1",
        ),
        ("postgresql://fmc@db/fmc", "postgresql://fmc@db/fmc"),
        ("host=db user=fmc", "host=db user=fmc"),
    ],
    ids=["url", "url-at-in-password", "keywords", "quoted", "query", "no-password", "plain"],
)
def test_redact_dsn(dsn: str, expected: str) -> None:
    """Passwords are hidden in URL and keyword DSNs, and nothing else changes."""
    assert redact_dsn(dsn) == expected


def test_unreachable_server_hides_the_password() -> None:
    """Failing to connect is a StoreError whose text and chain never hold the password."""
    dsn = f"postgresql://fmc:{SECRET}@127.0.0.1:1/fmc"
    with pytest.raises(StoreError, match="could not connect") as caught:
        PostgresStore(dsn, connect_timeout=2)
    error = caught.value
    assert SECRET not in str(error)
    assert SECRET not in repr(error)
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_import_does_not_load_psycopg() -> None:
    """Importing fmc.store (and fmc) never imports psycopg."""
    code = "import fmc, fmc.store, sys; print('psycopg' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    "options",
    [
        {"schema": "bad-name"},
        {"schema": "x; DROP TABLE y"},
        {"max_connections": 0},
        {"retries": -1},
    ],
    ids=["dash", "injection", "pool", "retries"],
)
def test_bad_configuration(options: dict[str, object]) -> None:
    """Invalid schema names and out-of-range options raise ConfigurationError before connecting."""
    with pytest.raises(ConfigurationError):
        PostgresStore("postgresql://127.0.0.1:1/x", **options)  # type: ignore[arg-type]


@pytest.mark.postgres
class TestServer:
    def test_repr_hides_password(self, postgres_dsn: str, postgres_schema: str) -> None:
        """The store's repr shows the redacted DSN and the schema."""
        with PostgresStore(postgres_dsn, schema=postgres_schema) as store:
            assert (
                repr(store)
                == f"PostgresStore({redact_dsn(postgres_dsn)!r}, schema={postgres_schema!r})"
            )

    def test_schema_is_versioned_and_migrated_once(
        self, postgres_dsn: str, postgres_schema: str
    ) -> None:
        """A new schema is at the newest version; reopening keeps data and adds no version."""
        import psycopg
        from psycopg import sql

        with PostgresStore(postgres_dsn, schema=postgres_schema) as store:
            assert store.schema_version() == schema.MIGRATIONS[-1][0]
            store.record_event(PAGE, "u1", at=T0, interaction=True)
        with PostgresStore(postgres_dsn, schema=postgres_schema) as store:
            assert store.get(PAGE, "u1") is not None
        with psycopg.connect(postgres_dsn) as conn:
            query = sql.SQL("SELECT version FROM {}.schema_version")
            rows = conn.execute(query.format(sql.Identifier(postgres_schema))).fetchall()
        assert [r[0] for r in rows] == [v for v, _ in schema.MIGRATIONS]

    def test_newer_schema_is_refused(self, postgres_dsn: str, postgres_schema: str) -> None:
        """A schema migrated by a newer fmc raises StoreError."""
        import psycopg
        from psycopg import sql

        PostgresStore(postgres_dsn, schema=postgres_schema).close()
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            query = sql.SQL("INSERT INTO {}.schema_version (version) VALUES (%s)")
            conn.execute(
                query.format(sql.Identifier(postgres_schema)), (schema.MIGRATIONS[-1][0] + 1,)
            )
        with pytest.raises(StoreError, match="newer than this fmc"):
            PostgresStore(postgres_dsn, schema=postgres_schema)

    def test_schemas_are_isolated(self, postgres_dsn: str, postgres_schema: str) -> None:
        """Two schemas in one database hold separate subscribers."""
        import psycopg

        other = postgres_schema + "_b"
        try:
            with (
                PostgresStore(postgres_dsn, schema=postgres_schema) as one,
                PostgresStore(postgres_dsn, schema=other) as two,
            ):
                one.record_event(PAGE, "u1", at=T0, interaction=True)
                assert (one.count(PAGE), two.count(PAGE)) == (1, 0)
        finally:
            with psycopg.connect(postgres_dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{other}" CASCADE')

    def test_small_pool_serves_many_threads(self, postgres_dsn: str, postgres_schema: str) -> None:
        """With one pooled connection, eight threads still all get their writes done."""
        with PostgresStore(postgres_dsn, schema=postgres_schema, max_connections=1) as store:

            def write(worker: int) -> None:
                for batch in range(5):
                    store.record_events(
                        EventRecord(PAGE, f"w{worker}-{batch}-{i}", T0, True) for i in range(20)
                    )

            threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert store.count(PAGE) == 8 * 5 * 20

    def test_closed_store_refuses_work(self, postgres_dsn: str, postgres_schema: str) -> None:
        """A closed store raises StoreError."""
        store = PostgresStore(postgres_dsn, schema=postgres_schema)
        store.close()
        with pytest.raises(StoreError, match="closed"):
            store.count(PAGE)

    def test_sql_errors_become_store_errors(self, postgres_dsn: str, postgres_schema: str) -> None:
        """A driver error surfaces as StoreError with the cause kept."""
        import psycopg

        with PostgresStore(postgres_dsn, schema=postgres_schema) as store:
            with psycopg.connect(postgres_dsn, autocommit=True) as conn:
                conn.execute(f'DROP TABLE "{postgres_schema}".outbox')
            with pytest.raises(StoreError, match="count the outbox") as caught:
                store.outbox_count()
            assert isinstance(caught.value.__cause__, psycopg.Error)

    @pytest.mark.parametrize(
        ("options", "inside"),
        [({}, "INTRANS"), ({"single_statement": True}, "IDLE"), ({"timeout": 5.0}, "INTRANS")],
        ids=["transaction", "single-statement", "timeout-keeps-transaction"],
    )
    def test_a_single_statement_write_goes_without_begin(
        self, postgres_dsn: str, postgres_schema: str, options: dict[str, Any], inside: str
    ) -> None:
        """A one-statement write skips BEGIN/COMMIT, unless a timeout needs the transaction."""
        with PostgresStore(postgres_dsn, schema=postgres_schema) as store:
            status = store._pool.write("look", lambda c: c.info.transaction_status, **options)
        assert status.name == inside

    def test_settles_and_handoffs_are_planned_afresh_each_time(
        self, postgres_dsn: str, postgres_schema: str
    ) -> None:
        """No generic plan of the settle or handoff statement is kept, however often they run."""
        from fmc.models.broadcast import JournalEntry, JournalState

        at = datetime(2026, 11, 1, tzinfo=timezone.utc)
        with PostgresStore(postgres_dsn, schema=postgres_schema, max_connections=1) as store:
            store.journal_claim("b", ["a", "b"], at=at, run_id="r")
            for _ in range(8):
                assert store.journal_handoff("b", ["a", "b"], run_id="r", at=at) == ["a", "b"]
                outcomes = [
                    JournalEntry("b", p, JournalState.AMBIGUOUS, None, None, at) for p in "ab"
                ]
                store.journal_settle("r", outcomes)
                store.journal_reclaim(
                    "b", ["a", "b"], from_states={JournalState.AMBIGUOUS}, at=at, run_id="r"
                )
            prepared = store._pool.read(
                "list prepared statements",
                lambda c: c.execute("SELECT statement FROM pg_prepared_statements").fetchall(),
            )
        assert prepared  # psycopg does prepare the statements it sees often (the reclaim)
        assert not [row for row in prepared if "INSERT INTO journal AS j" in row[0]]

    def test_deadlock_is_retried_with_the_shared_pauses(
        self, postgres_dsn: str, postgres_schema: str
    ) -> None:
        """A deadlocked transaction runs again after the same pauses as SQLite's busy retries."""
        import psycopg

        sleeps: list[float] = []
        failures = [psycopg.errors.DeadlockDetected("deadlock detected")] * 2

        def record(conn: object) -> str:
            if failures:
                raise failures.pop()
            return "committed"

        with PostgresStore(
            postgres_dsn, schema=postgres_schema, retries=3, sleep=sleeps.append
        ) as store:
            assert store._pool.write("record events", record) == "committed"
        assert sleeps == [0.05, 0.1]

    def test_deadlock_past_the_retries_is_a_store_error(
        self, postgres_dsn: str, postgres_schema: str
    ) -> None:
        """A transaction still deadlocking after every retry raises StoreError naming the work."""
        import psycopg

        def record(conn: object) -> None:
            raise psycopg.errors.DeadlockDetected("deadlock detected")

        sleeps: list[float] = []
        with (
            PostgresStore(
                postgres_dsn, schema=postgres_schema, retries=2, sleep=sleeps.append
            ) as store,
            pytest.raises(StoreError, match="could not record events") as caught,
        ):
            store._pool.write("record events", record)
        assert isinstance(caught.value.__cause__, psycopg.errors.DeadlockDetected)
        assert sleeps == [0.05, 0.1]
