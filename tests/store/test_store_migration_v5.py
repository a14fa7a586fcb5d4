"""Schema version 5 (the ad window's column) on SQLite and PostgreSQL, and late versions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

import pytest

from fmc.models.subscriber import SubscriberStatus
from fmc.store import EventRecord, SubscriberStore
from fmc.store import _postgres_schema as postgres_schema
from fmc.store import _sqlite_schema as sqlite_schema

STORE_BACKENDS = ["sqlite", "postgres"]
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)
PAGE = "page-1"


def schema_of(request: pytest.FixtureRequest) -> ModuleType:
    """The schema module of the test's backend."""
    backend = request.node.callspec.params["make_store"]
    return sqlite_schema if backend == "sqlite" else postgres_schema


def applied(request: pytest.FixtureRequest, tmp_path: Path) -> list[int]:
    """The versions recorded in the test database's ``schema_version`` table."""
    if schema_of(request) is sqlite_schema:
        with sqlite3.connect(tmp_path / "fmc.db") as conn:
            return [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    import psycopg
    from psycopg import sql

    dsn = request.getfixturevalue("postgres_dsn")
    name = request.getfixturevalue("postgres_schema")
    with psycopg.connect(dsn) as conn:
        query = sql.SQL("SELECT version FROM {}.schema_version ORDER BY 1")
        return [r[0] for r in conn.execute(query.format(sql.Identifier(name)))]


@pytest.mark.parametrize("schema", [sqlite_schema, postgres_schema], ids=["sqlite", "postgres"])
def test_version_5_adds_the_ad_time_column(schema: ModuleType) -> None:
    """Both backends know version 5, and it adds ``ad_referral_at`` to subscribers."""
    versions = dict(schema.MIGRATIONS)
    assert 5 in versions
    assert any("ad_referral_at" in statement for statement in versions[5])


def test_a_version_3_database_is_upgraded_keeping_its_rows(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    make_store: Callable[[], SubscriberStore],
) -> None:
    """A database made before version 5 keeps its people, who have no ad time until they write."""
    schema = schema_of(request)
    newest = schema.MIGRATIONS
    monkeypatch.setattr(schema, "MIGRATIONS", tuple(m for m in newest if m[0] <= 3))
    old = make_store()
    # A write whose SQL does not name the new column, as version 3's code wrote.
    old.set_status(PAGE, "p1", SubscriberStatus.OPTED_OUT, reason="wrote STOP", at=T0)
    assert old.schema_version() == 3
    old.close()
    monkeypatch.setattr(schema, "MIGRATIONS", newest)
    upgraded = make_store()
    assert upgraded.schema_version() == newest[-1][0]
    before = upgraded.get(PAGE, "p1")
    assert before is not None
    assert (before.status, before.first_seen_at) == (SubscriberStatus.OPTED_OUT, T0)
    assert before.ad_referral_at is None
    upgraded.record_events([EventRecord(PAGE, "p1", T0, interaction=True, ad_referral=True)])
    after = upgraded.get(PAGE, "p1")
    assert after is not None
    assert after.ad_referral_at == T0


def test_a_version_merged_late_is_still_applied(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    make_store: Callable[[], SubscriberStore],
    tmp_path: Path,
) -> None:
    """A version lower than one already applied (say 4 after 5) is applied on the next open."""
    schema = schema_of(request)
    make_store().close()
    late = (4, ("CREATE TABLE late_four (x integer)", "INSERT INTO late_four VALUES (4)"))
    with_late = tuple(sorted((*(m for m in schema.MIGRATIONS if m[0] != 4), late)))
    monkeypatch.setattr(schema, "MIGRATIONS", with_late)
    store = make_store()
    assert store.schema_version() == with_late[-1][0]
    assert applied(request, tmp_path) == [v for v, _ in with_late]
