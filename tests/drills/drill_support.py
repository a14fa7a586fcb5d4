"""Shared pieces of the reliability drills: the fixed time, secrets, subscribers, fast clients."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import fmc
from fmc.store.base import EventRecord
from fmc.testing import DEFAULT_PAGE_ID

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
PAGE_ID = DEFAULT_PAGE_ID
PAGE_TOKEN = "EAAGdrillPageTokenNeverLogged0123456789"
APP_SECRET = "drill-app-secret-never-logged-42"
VERIFY_TOKEN = "drill-verify-token-never-logged-7"
NEWS = fmc.Purpose.NEWS


def psids(count: int, prefix: str = "p") -> list[str]:
    """``count`` PSIDs that sort in creation order."""
    return [f"{prefix}{i:06d}" for i in range(count)]


def register(store: Any, ids: Iterable[str], *, at: datetime = NOW - timedelta(hours=1)) -> None:
    """Register people as subscribers who wrote to the Page at ``at`` (one write per 1,000)."""
    batch: list[EventRecord] = []
    for psid in ids:
        batch.append(EventRecord(PAGE_ID, psid, at, interaction=True))
        if len(batch) >= 1000:
            store.record_events(batch)
            batch = []
    if batch:
        store.record_events(batch)


def fast_retry(attempts: int = 4) -> fmc.RetryPolicy:
    """A retry policy with no waits (the client's sleep is a no-op anyway)."""
    return fmc.RetryPolicy(
        attempts=attempts, timeout=None, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0
    )


def page() -> fmc.Page:
    """The drills' Page, with secrets that must never show up anywhere."""
    return fmc.Page(PAGE_ID, PAGE_TOKEN, app_secret=APP_SECRET)


def client(base_url: str, *, attempts: int = 4, **options: Any) -> fmc.Client:
    """A client for the drills' Page at ``base_url`` that never really sleeps."""
    return fmc.Client(
        page(), base_url=base_url, retry=fast_retry(attempts), sleep=lambda _: None, **options
    )


def channel(client: fmc.Client, store: Any, **options: Any) -> fmc.Channel:
    """A channel with only ``pages_messaging``: news goes to people inside the 24 h window."""
    return fmc.Channel(
        client.page,
        client=client,
        store=store,
        policy=fmc.MessagingPolicy(permissions={"pages_messaging"}),
        verify_token=VERIFY_TOKEN,
        clock=lambda: NOW,
        **options,
    )
