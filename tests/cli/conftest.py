"""Fixtures for the ``fmc`` command's tests: a fake Graph API on loopback, a store, a runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import APP_SECRET, PAGE_ID, PAGE_TOKEN, VERIFY_TOKEN, Runner

from fmc.testing import FakeGraphAPI, FakeGraphServer


@pytest.fixture
def fake() -> FakeGraphAPI:
    """A fake Graph API that accepts only the test Page's token and app secret."""
    return FakeGraphAPI(page_id=PAGE_ID, access_token=PAGE_TOKEN, app_secret=APP_SECRET)


@pytest.fixture
def graph(fake: FakeGraphAPI) -> Iterator[FakeGraphServer]:
    """The fake served on 127.0.0.1."""
    with fake.server() as server:
        yield server


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Where the command's SQLite store lives."""
    return tmp_path / "fmc.db"


@pytest.fixture
def environ(graph: FakeGraphServer, db: Path) -> dict[str, str]:
    """A complete environment pointing the command at the fake and the tmp store."""
    return {
        "FMC_PAGE_ID": PAGE_ID,
        "FMC_PAGE_TOKEN": PAGE_TOKEN,
        "FMC_APP_SECRET": APP_SECRET,
        "FMC_VERIFY_TOKEN": VERIFY_TOKEN,
        "FMC_DB": str(db),
        "FMC_GRAPH_URL": graph.url,
    }


@pytest.fixture
def fmc(environ: dict[str, str]) -> Runner:
    """Run ``fmc`` with the complete environment."""
    return Runner(environ)
