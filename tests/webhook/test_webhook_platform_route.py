"""platform.webhook remembers each Page's handler, and forgets it when the Page changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from fmc.platform import App, KeyRing, PageRecord, PageStatus, Platform
from fmc.store import MemoryStore
from fmc.testing import message_event, signature_headers
from fmc.webhook.forward import Forwarder

SHOP = App("1002", "shop-secret", "shop-verify", name="Shop")
PAGE = "3001"


class RecordingForwarder(Forwarder):
    """A forwarder that records the addresses it is given instead of sending."""

    def __init__(self) -> None:
        super().__init__(["bot.shop.test"])
        self.urls: list[str] = []

    def submit(self, url: str, body: bytes, headers: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self.urls.append(url)


@pytest.fixture
def platform() -> Iterator[Platform]:
    """A platform with one single-secret app and one Page (the routing fast path)."""
    keys = KeyRing([KeyRing.generate_key()])
    with Platform(MemoryStore(), keys=keys, forwarder=RecordingForwarder()) as made:
        made.add_app(SHOP)
        made.registry.put_page(PageRecord(PAGE, SHOP.id, "token-3001"))
        yield made


def post(platform: Platform, psid: str, mid: str) -> int:
    """POST one signed message for the Page; the status."""
    entry = {"id": PAGE, "time": 1, "messaging": [message_event(psid, "hi", page_id=PAGE, mid=mid)]}
    body = json.dumps({"object": "page", "entry": [entry]}).encode()
    headers = signature_headers(body, SHOP.secret)
    return platform.webhook.respond("POST", f"/webhook/{SHOP.id}", {}, headers, body).status


def registered(platform: Platform, psid: str) -> bool:
    """Whether ``psid`` is a subscriber of the Page."""
    return platform.store.get(PAGE, psid) is not None  # type: ignore[attr-defined]


def forwarded_to(platform: Platform) -> list[str]:
    """The addresses the Page's deliveries were handed to."""
    forwarder = platform.channel(PAGE).webhook.forwarder
    assert isinstance(forwarder, RecordingForwarder)
    return forwarder.urls


class TestRouteCache:
    def test_later_deliveries_reach_the_page(self, platform: Platform) -> None:
        """The second delivery, through the remembered handler, registers its sender too."""
        assert post(platform, "p1", "m1") == 200
        assert post(platform, "p2", "m2") == 200
        assert registered(platform, "p1")
        assert registered(platform, "p2")

    def test_disconnected_page_refused_after_a_delivery(self, platform: Platform) -> None:
        """A Page disconnected after a delivery gets no more: the remembered handler is dropped."""
        assert post(platform, "p1", "m1") == 200
        platform.registry.set_status(PAGE, PageStatus.DISCONNECTED)
        assert post(platform, "p2", "m2") == 200
        assert not registered(platform, "p2")

    def test_changed_page_is_routed_with_its_new_record(self, platform: Platform) -> None:
        """A Page whose default redirect_to changes forwards to the new address at once."""
        assert post(platform, "p1", "m1") == 200
        platform.registry.put_page(
            PageRecord(PAGE, SHOP.id, "token-3001", redirect_to="https://bot.shop.test/new")
        )
        assert post(platform, "p2", "m2") == 200
        assert forwarded_to(platform) == ["https://bot.shop.test/new"]

    def test_change_elsewhere_forgets_every_route(self, platform: Platform) -> None:
        """A change the registry cannot pin to one Page forgets every remembered handler."""
        assert post(platform, "p1", "m1") == 200
        assert platform.webhook._routes
        platform.registry.invalidate()
        assert platform.webhook._routes == {}
        assert post(platform, "p2", "m2") == 200
        assert registered(platform, "p2")
