"""Broadcasts across Pages: one journaled broadcast per Page, one combined report."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from fmc.models import Text
from fmc.models.subscriber import Subscriber, SubscriberStatus
from fmc.platform import App, PageStatus, Platform
from fmc.platform.plans import plan_page
from fmc.policy import MessagingPolicy, Purpose
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


class TestPlan:
    def test_plan_counts_each_pages_subscribers_and_calls_nothing(
        self, two_pages: tuple[Platform, FakeGraphAPI], requests_mock: Any
    ) -> None:
        """plan_broadcast judges every Page's subscribers with its policy; no Graph call."""
        platform, fake = two_pages
        calls = requests_mock.call_count
        plan = platform.plan_broadcast(Purpose.RESPONSE)
        assert {p: (x.total, x.would_send) for p, x in plan.plans.items()} == {
            "2001": (2, 2),
            "2002": (2, 2),
        }
        assert plan.would_send == 4
        assert requests_mock.call_count == calls
        assert fake.deliveries == []

    def test_plan_counts_skips_per_rule(self, two_pages: tuple[Platform, FakeGraphAPI]) -> None:
        """A day later the 24-hour window has closed: every subscriber is skipped by one rule."""
        platform, _ = two_pages
        later = datetime.now(timezone.utc) + timedelta(hours=25)
        plan = platform.plan_broadcast(Purpose.RESPONSE, pages=["2001"], now=later)
        (rule,) = plan.plans["2001"].rules
        assert (rule.allowed, rule.count) == (False, 2)
        assert rule.example

    def test_plan_lists_the_pages_a_run_would_skip(
        self, two_pages: tuple[Platform, FakeGraphAPI]
    ) -> None:
        """A token_invalid Page and an unknown one are listed with why, as broadcast lists them."""
        platform, _ = two_pages
        platform.registry.set_status("2002", PageStatus.TOKEN_INVALID, reason="190")
        plan = platform.plan_broadcast(Purpose.RESPONSE, pages=["2001", "2002", "9999"])
        assert set(plan.plans) == {"2001"}
        assert plan.not_sent == {"2002": "token_invalid: 190", "9999": "not registered"}

    def test_plan_summary_names_every_page(self, two_pages: tuple[Platform, FakeGraphAPI]) -> None:
        """The summary says nothing was sent and gives each Page's line and the total."""
        platform, _ = two_pages
        text = platform.plan_broadcast(Purpose.RESPONSE).summary()
        assert text.startswith("dry run (response, nothing sent, nothing journaled):")
        assert "Page 2001: 2 subscribers, 2 would be sent, 0 skipped" in text
        assert text.endswith("all Pages: 4 would be sent")


def test_plan_page_puts_sends_first_and_words_each_rule() -> None:
    """plan_page counts decisions per rule, sends before skips, one line per rule."""
    now = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    people = [
        Subscriber("1", "in-1", last_interaction_at=now - timedelta(hours=1)),
        Subscriber("1", "in-2", last_interaction_at=now - timedelta(hours=2)),
        Subscriber("1", "gone", SubscriberStatus.OPTED_OUT),
    ]
    plan = plan_page("1", people, MessagingPolicy({"pages_messaging"}), Purpose.NEWS, now)
    assert [(r.allowed, r.count) for r in plan.rules] == [(True, 2), (False, 1)]
    assert plan.counts() == "3 subscribers, 2 would be sent, 1 skipped"
    send, skip = plan.rule_lines()
    assert send.startswith("  send      2  inside_window: e.g. ")
    assert skip.startswith("  skip      1  opted_out: e.g. ")
