"""Fixtures of the scale tests: a store of each backend and an opener for the fake's Page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from shard_support import NOW

import fmc
from fmc.scale import PageResources
from fmc.testing import FakeGraphAPI


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[fmc.SubscriberStore]:
    """A store of each backend that needs no server."""
    if request.param == "memory":
        yield fmc.MemoryStore()
    else:
        with fmc.SQLiteStore(tmp_path / "fmc.db") as sqlite:
            yield sqlite


def _opener(
    fake_graph: FakeGraphAPI, client: fmc.Client, store: fmc.SubscriberStore
) -> Callable[[str], object]:
    """Opens the fake's Page: the shared client, ``store`` and a news-capable policy."""

    @contextmanager
    def open_page(page_id: str) -> Iterator[PageResources]:
        assert page_id == fake_graph.page_id
        yield PageResources(
            client,
            store,
            fmc.MessagingPolicy(permissions={"pages_messaging"}),
            clock=lambda: NOW,
        )

    return open_page


@pytest.fixture
def opener(
    fake_graph: FakeGraphAPI, fmc_client: fmc.Client, store: fmc.SubscriberStore
) -> Callable[[str], object]:
    """Opens the fake's Page over the server-less store."""
    return _opener(fake_graph, fmc_client, store)


@pytest.fixture
def pg_store(postgres_dsn: str, postgres_schema: str) -> Iterator[fmc.PostgresStore]:
    """A PostgreSQL store in a fresh schema (the ledger lives beside it)."""
    with fmc.PostgresStore(postgres_dsn, schema=postgres_schema) as opened:
        yield opened


@pytest.fixture
def pg_opener(
    fake_graph: FakeGraphAPI, fmc_client: fmc.Client, pg_store: fmc.PostgresStore
) -> Callable[[str], object]:
    """Opens the fake's Page over the PostgreSQL store."""
    return _opener(fake_graph, fmc_client, pg_store)
