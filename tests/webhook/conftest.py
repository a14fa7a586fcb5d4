"""Fixtures for the webhook tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from webhook_support import Receiver, start_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A recording HTTP server on 127.0.0.1 (answers 200 unless statuses are scripted)."""
    state, thread = start_receiver()
    try:
        yield state
    finally:
        state.server.shutdown()
        state.server.server_close()
        thread.join(5)
