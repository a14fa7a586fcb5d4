"""Shared test configuration: fmc's pytest plugin, hypothesis profiles, PostgreSQL, stores.

fmc's own suite turns its pytest plugin on here, as the testing guide tells an
app to (installing fmc does not).

PostgreSQL tests use ``FMC_TEST_POSTGRES_DSN`` and a fresh schema per test. Without
a reachable server they skip, unless ``FMC_REQUIRE_POSTGRES=1`` (CI), where they fail.
A test that uses ``make_store`` (or ``store``, where no closer fixture of that name
exists) runs once per backend in ``BACKENDS``, or in its module's ``STORE_BACKENDS``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from fmc.store import MemoryStore, PostgresStore, SQLiteStore, SubscriberStore

pytest_plugins = ["fmc.testing.pytest_plugin"]

settings.register_profile("default", deadline=None)
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required (FMC_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """The DSN of a reachable PostgreSQL server, or a skip (a failure in CI)."""
    dsn = os.environ.get("FMC_TEST_POSTGRES_DSN")
    if not dsn:
        _postgres_unavailable("FMC_TEST_POSTGRES_DSN is not set")
        raise AssertionError("unreachable")
    try:
        import psycopg
    except ImportError:
        _postgres_unavailable("psycopg is not installed (pip install 'fmc-messenger[postgres]')")
        raise AssertionError("unreachable") from None
    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except psycopg.Error as exc:
        _postgres_unavailable(f"the server in FMC_TEST_POSTGRES_DSN is unreachable ({exc})")
    return dsn


@pytest.fixture
def redis_url() -> str:
    """The Redis server of the Celery tests and drills (``FMC_TEST_REDIS_URL``, set by .ci/run)."""
    url = os.environ.get("FMC_TEST_REDIS_URL")
    if not url:
        pytest.skip(
            "FMC_TEST_REDIS_URL is not set: no Redis for the Celery tests (.ci/run sets it)"
        )
    return url


@pytest.fixture
def postgres_schema(postgres_dsn: str) -> Iterator[str]:
    """A unique schema name, dropped with its tables after the test."""
    import psycopg

    name = f"fmc_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


BACKENDS = ["memory", "sqlite", "postgres"]


@pytest.fixture
def make_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], SubscriberStore]]:
    """A factory opening the parametrized backend on the same database each call."""
    backend = request.param
    opened: list[SubscriberStore] = []
    if backend == "postgres":
        dsn = request.getfixturevalue("postgres_dsn")
        schema = request.getfixturevalue("postgres_schema")

    def make() -> SubscriberStore:
        store: SubscriberStore
        if backend == "memory":
            store = opened[0] if opened else MemoryStore()
        elif backend == "sqlite":
            store = SQLiteStore(tmp_path / "fmc.db")
        else:
            store = PostgresStore(dsn, schema=schema)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[[], SubscriberStore]) -> SubscriberStore:
    """A fresh, empty store of the parametrized backend."""
    return make_store()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses ``store`` or ``make_store`` once per backend."""
    if "make_store" in metafunc.fixturenames:
        backends = getattr(metafunc.module, "STORE_BACKENDS", BACKENDS)
        marks = {"postgres": [pytest.mark.postgres]}
        metafunc.parametrize(
            "make_store",
            [pytest.param(b, id=b, marks=marks.get(b, [])) for b in backends],
            indirect=True,
        )
