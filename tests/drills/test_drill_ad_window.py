"""Drill: a signed delivery from a Click-to-Messenger ad opens the 7-day window on every store.

The person's first message from an ad (Meta's messages reference: the
``referral`` with ``source`` ``ADS`` rides on the message) goes through
``Channel.webhook``; six days later a NEWS send is allowed (the ad's window),
eight days later it is refused (the window is 7 days and no other rule fits a
Page with only ``pages_messaging``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import drill_support as ds
import pytest

import fmc
from fmc.testing import message_event, referral_event, signed_delivery

SENT = ds.NOW - timedelta(days=10)
AD = {"ref": "spring-sale", "ad_id": "6045246247433", "source": "ADS", "type": "OPEN_THREAD"}


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[fmc.SubscriberStore]:
    """A fresh store of each backend."""
    opened: fmc.SubscriberStore
    if request.param == "memory":
        opened = fmc.MemoryStore()
    elif request.param == "sqlite":
        opened = fmc.SQLiteStore(tmp_path / "fmc.db")
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        opened = fmc.PostgresStore(dsn, schema=request.getfixturevalue("postgres_schema"))
    yield opened
    opened.close()


def from_ad(kind: str) -> dict[str, object]:
    """The person's message (or referral) from the ad, as Meta delivers it."""
    millis = int(SENT.timestamp() * 1000)
    if kind == "message":
        item = message_event("p-ad", "Is this still available?", timestamp=millis, mid="m_ad")
        item["message"]["referral"] = AD
        return item
    return referral_event(
        "p-ad", ref="spring-sale", source="ADS", ad_id=AD["ad_id"], timestamp=millis
    )


@pytest.mark.parametrize("kind", ["message", "referral"])
@pytest.mark.parametrize(("days", "allowed"), [(6, True), (8, False)])
def test_news_follows_the_ad_window(
    store: fmc.SubscriberStore, kind: str, days: int, allowed: bool
) -> None:
    """NEWS is allowed 6 days after the ad message, refused 8 days after."""
    now: list[datetime] = [SENT]
    with ds.client("http://127.0.0.1:9") as client:
        channel = fmc.Channel(
            client.page,
            client=client,
            store=store,
            policy=fmc.MessagingPolicy(permissions={"pages_messaging"}),
            verify_token=ds.VERIFY_TOKEN,
            clock=lambda: now[0],
        )
        body, headers = signed_delivery([from_ad(kind)], ds.APP_SECRET)
        assert channel.webhook.respond("POST", {}, headers, body).status == 200
        now[0] = SENT + timedelta(days=days)
        decision = channel.decide("p-ad", fmc.Purpose.NEWS)
    person = store.get(ds.PAGE_ID, "p-ad")
    assert person is not None
    assert person.ad_referral_at == SENT
    assert decision.allowed is allowed, decision.reason
