"""Fixtures for the store tests: one ``store`` fixture over every backend.

PostgreSQL tests use the ``postgres_dsn`` and ``postgres_schema`` fixtures of
``tests/conftest.py``: a fresh schema per test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fmc.store import MemoryStore, PostgresStore, SQLiteStore, SubscriberStore

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
