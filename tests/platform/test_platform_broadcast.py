"""Broadcasts across Pages: one journaled broadcast per Page, one combined report."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from fmc.models import Text
from fmc.platform import App, PageStatus, Platform
from fmc.policy import Purpose
from fmc.testing import FakeGraphAPI

BAKERY = App("1001", "bakery-secret", "bakery-verify")


@pytest.fixture
def two_pages(platform: Platform, requests_mock: Any) -> tuple[Platform, FakeGraphAPI]:
    """Two connected Pages with two subscribers each, who wrote a minute ago."""
    fake = FakeGraphAPI()
    fake.tenants.add_app(BAKERY.id, BAKERY.secret)
    platform.add_app(BAKERY)
    now = datetime.now(timezone.utc)
    for page_id in ("2001", "2002"):
        fake.tenants.add_page(page_id, f"token-{page_id}", app_id=BAKERY.id)
    fake.mock(requests_mock)
    for page_id in ("2001", "2002"):
        platform.connect_page(BAKERY, f"token-{page_id}")
        for psid in ("a", "b"):
            platform.store.record_event(page_id, f"{page_id}-{psid}", at=now, interaction=True)  # type: ignore[union-attr]
    return platform, fake


def test_each_page_sends_to_its_own_subscribers(two_pages: tuple[Platform, FakeGraphAPI]) -> None:
    """Every Page's subscribers get the message from that Page; the report adds them up."""
    platform, fake = two_pages
    report = platform.broadcast(Text("Fresh bread"), Purpose.RESPONSE)
    assert report.sent == 4
    assert {p: r.sent for p, r in report.reports.items()} == {"2001": 2, "2002": 2}
    assert sorted(d.recipient["id"] for d in fake.deliveries) == [
        "2001-a",
        "2001-b",
        "2002-a",
        "2002-b",
    ]
    assert "all Pages: sent 4" in report.summary()


def test_dead_token_pauses_that_page_only(two_pages: tuple[Platform, FakeGraphAPI]) -> None:
    """A revoked token pauses that Page's broadcast and marks it token_invalid; the other sends."""
    platform, fake = two_pages
    fake.tenants.revoke("token-2001")
    report = platform.broadcast(Text("Fresh bread"), Purpose.RESPONSE, idempotency_key="k1")
    assert set(report.paused) == {"2001"}
    assert report.reports["2002"].sent == 2
    assert platform.registry.page("2001").status is PageStatus.TOKEN_INVALID  # type: ignore[union-attr]
    again = platform.broadcast(Text("Fresh bread"), Purpose.RESPONSE, idempotency_key="k1")
    assert again.not_sent["2001"].startswith("token_invalid")
    assert again.reports["2002"].already_sent == 2
    assert again.sent == 0


def test_reconnect_resumes_without_repeats(two_pages: tuple[Platform, FakeGraphAPI]) -> None:
    """Reconnecting with a fresh token and running the same broadcast sends only what was left."""
    platform, fake = two_pages
    fake.tenants.revoke("token-2001")
    platform.broadcast(Text("Fresh bread"), Purpose.RESPONSE, idempotency_key="k2")
    fake.tenants.add_page("2001", "token-2001-new", app_id=BAKERY.id)
    platform.connect_page(BAKERY, "token-2001-new")
    report = platform.broadcast(Text("Fresh bread"), Purpose.RESPONSE, idempotency_key="k2")
    assert report.reports["2001"].sent == 2
    assert report.reports["2002"].sent == 0
    assert len(fake.delivered_to("2001-a")) == 1
