"""Fixtures for the Channel tests: a fixed clock, a store, a channel on the fake Graph API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channel_support import APP_SECRET, VERIFY_TOKEN, Clock

import fmc
from fmc.testing import FakeGraphAPI


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield fmc.MemoryStore()
    else:
        with fmc.SQLiteStore(tmp_path / "fmc.db") as sqlite:
            yield sqlite


@pytest.fixture
def make_channel(fake_graph: FakeGraphAPI, fmc_client: fmc.Client, store: Any, clock: Clock) -> Any:
    def make(*permissions: str) -> fmc.Channel:
        page = fmc.Page(fake_graph.page_id, "test-page-token", app_secret=APP_SECRET)
        return fmc.Channel(
            page,
            client=fmc_client,
            store=store,
            policy=fmc.MessagingPolicy(permissions=set(permissions) or {"pages_messaging"}),
            verify_token=VERIFY_TOKEN,
            clock=clock,
        )

    return make


@pytest.fixture
def channel(make_channel: Any) -> fmc.Channel:
    channel: fmc.Channel = make_channel()
    return channel
