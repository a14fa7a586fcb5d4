"""Helpers the scale tests import (a conftest is not importable by name from every directory)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import fmc
from fmc.store.base import EventRecord

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def register(store: fmc.SubscriberStore, page_id: str, psids: list[str]) -> None:
    """Subscribers who wrote to the Page an hour ago (inside the 24 h window)."""
    at = NOW - timedelta(hours=1)
    store.record_events([EventRecord(page_id, psid, at, interaction=True) for psid in psids])
