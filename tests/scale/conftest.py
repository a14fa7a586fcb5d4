"""Fixtures of the scale tests: a store of each backend and an opener for the fake's Page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import fmc
from fmc.scale import PageResources
from fmc.store.base import EventRecord
from fmc.testing import FakeGraphAPI

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[fmc.SubscriberStore]:
    """A store of each backend that needs no server."""
    if request.param == "memory":
        yield fmc.MemoryStore()
    else:
        with fmc.SQLiteStore(tmp_path / "fmc.db") as sqlite:
            yield sqlite


def register(store: fmc.SubscriberStore, page_id: str, psids: list[str]) -> None:
    """Subscribers who wrote to the Page an hour ago (inside the 24 h window)."""
    at = NOW - timedelta(hours=1)
    store.record_events([EventRecord(page_id, psid, at, interaction=True) for psid in psids])


@pytest.fixture
def opener(
    fake_graph: FakeGraphAPI, fmc_client: fmc.Client, store: fmc.SubscriberStore
) -> Callable[[str], object]:
    """Opens the fake's Page: the shared client and store, a news-capable policy."""

    @contextmanager
    def open_page(page_id: str) -> Iterator[PageResources]:
        assert page_id == fake_graph.page_id
        yield PageResources(
            fmc_client,
            store,
            fmc.MessagingPolicy(permissions={"pages_messaging"}),
            clock=lambda: NOW,
        )

    return open_page
