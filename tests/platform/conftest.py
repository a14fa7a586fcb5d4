"""Fixtures for the platform tests: every test that uses ``make_store`` runs on each backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from platform_support import KEY_A

from fmc.platform import KeyRing, Platform
from fmc.store import MemoryStore, PostgresStore, SQLiteStore
from fmc.testing import DEFAULT_BASE_URL

BACKENDS = ["memory", "sqlite", "postgres"]


@pytest.fixture
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """A factory opening the parametrized backend on the same database each call."""
    backend = request.param
    opened: list[Any] = []
    if backend == "postgres":
        dsn = request.getfixturevalue("postgres_dsn")
        schema = request.getfixturevalue("postgres_schema")

    def make() -> Any:
        if backend == "memory":
            store: Any = opened[0] if opened else MemoryStore()
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
def store(make_store: Callable[[], Any]) -> Any:
    """A fresh store of the parametrized backend."""
    return make_store()


@pytest.fixture
def keys() -> KeyRing:
    """A key ring with one key."""
    return KeyRing([KEY_A])


@pytest.fixture
def platform(store: Any, keys: KeyRing) -> Iterator[Platform]:
    """A platform on the parametrized store, at the fake Graph API's default URL."""
    with Platform(store, keys=keys, base_url=DEFAULT_BASE_URL) as made:
        yield made


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses a store once per backend."""
    if "make_store" in metafunc.fixturenames:
        backends = getattr(metafunc.module, "STORE_BACKENDS", BACKENDS)
        marks = {"postgres": [pytest.mark.postgres]}
        metafunc.parametrize(
            "make_store",
            [pytest.param(b, id=b, marks=marks.get(b, [])) for b in backends],
            indirect=True,
        )
