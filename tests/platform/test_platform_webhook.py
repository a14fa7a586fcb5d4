"""One endpoint for every app: per-app path, handshake, signature, per-Page routing."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from fmc.platform import App, PageRecord, PageStatus, Platform
from fmc.store import MemoryStore
from fmc.store.delivery import DeliveryWrite
from fmc.testing import message_event, signature_headers, verification_query
from fmc.webhook.forward import Forwarder

BAKERY = App("1001", ("bakery-new-secret", "bakery-old-secret"), "bakery-verify", name="Bakery")
GARAGE = App("1002", "garage-secret", "garage-verify", name="Garage")
#: Page -> app: the bakery has two Pages, the garage one.
PAGES = {"2001": "1001", "2002": "1001", "3001": "1002"}


class RecordingForwarder(Forwarder):
    """A forwarder that records what it is given instead of sending it."""

    def __init__(self) -> None:
        super().__init__(["bot.bakery.test"])
        self.submitted: list[tuple[str, bytes]] = []

    def submit(self, url: str, body: bytes, headers: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self.submitted.append((url, body))


@pytest.fixture
def served(store: Any, keys: Any) -> Iterator[Platform]:
    """A platform with two apps and three Pages (2002 forwards to its bot by default)."""
    with Platform(store, keys=keys, forwarder=RecordingForwarder()) as platform:
        platform.add_app(BAKERY)
        platform.add_app(GARAGE)
        for page_id, app_id in PAGES.items():
            redirect = "https://bot.bakery.test/hook" if page_id == "2002" else None
            platform.registry.put_page(
                PageRecord(page_id, app_id, f"token-{page_id}", redirect_to=redirect)
            )
        yield platform


def _body(*entries: tuple[str, str, str]) -> bytes:
    """A delivery with one entry per ``(page_id, psid, mid)``."""
    items = [
        {"id": page, "time": 1, "messaging": [message_event(psid, "hi", page_id=page, mid=mid)]}
        for page, psid, mid in entries
    ]
    return json.dumps({"object": "page", "entry": items}).encode()


def _post(platform: Platform, app_id: str, body: bytes, secret: str, query: Any = None) -> int:
    headers = signature_headers(body, secret)
    return platform.webhook.respond("POST", f"/webhook/{app_id}", query or {}, headers, body).status


def _registered(platform: Platform, page_id: str, psid: str) -> bool:
    return platform.store.get(page_id, psid) is not None  # type: ignore[union-attr]


class TestPaths:
    @pytest.mark.parametrize(
        "path", ["/webhook/9999", "/webhook/", "/other/1001", "/webhook/1001/x"]
    )
    def test_unknown_app_path_is_404(self, served: Platform, path: str) -> None:
        """A path that names no registered app: 404."""
        body = _body(("2001", "p1", "m1"))
        answer = served.webhook.respond(
            "POST", path, {}, signature_headers(body, BAKERY.secret), body
        )
        assert answer.status == 404

    @pytest.mark.parametrize(
        ("app", "status"), [(BAKERY, 200), (GARAGE, 403)], ids=["own", "other"]
    )
    def test_handshake_uses_the_app_verify_token(
        self, served: Platform, app: App, status: int
    ) -> None:
        """The handshake on the bakery's path accepts its verify token only."""
        query = verification_query(app.verify_token, challenge="42")
        answer = served.webhook.respond("GET", "/webhook/1001", query, {}, b"")
        assert answer.status == status
        if status == 200:
            assert answer.body == b"42"


class TestSignatures:
    @pytest.mark.parametrize("secret", list(BAKERY.secrets), ids=["newest", "older"])
    def test_any_rotation_secret_is_accepted(self, served: Platform, secret: str) -> None:
        """A delivery signed with any of the app's secrets is registered under its Page."""
        assert _post(served, "1001", _body(("2001", "p1", "m1")), secret) == 200
        assert _registered(served, "2001", "p1")

    def test_other_app_secret_is_403(self, served: Platform) -> None:
        """A delivery signed with the garage's secret on the bakery's path: 403, nothing stored."""
        assert _post(served, "1001", _body(("2001", "p1", "m1")), GARAGE.secret) == 403
        assert not _registered(served, "2001", "p1")


class TestRouting:
    def test_entries_go_to_their_own_pages(self, served: Platform) -> None:
        """One delivery for two Pages of the app registers each person under their Page."""
        body = _body(("2001", "p1", "m1"), ("2002", "p2", "m2"))
        assert _post(served, "1001", body, BAKERY.secret) == 200
        assert _registered(served, "2001", "p1")
        assert _registered(served, "2002", "p2")
        assert not _registered(served, "2001", "p2")

    @pytest.mark.parametrize(
        ("page", "why"),
        [("3001", "connected to another app"), ("4004", "not registered")],
        ids=["other-app", "unknown"],
    )
    def test_foreign_entries_are_refused_others_processed(
        self, served: Platform, caplog: pytest.LogCaptureFixture, page: str, why: str
    ) -> None:
        """An entry for another app's or an unknown Page is refused and logged; the rest go on."""
        body = _body((page, "px", "m1"), ("2001", "p1", "m2"))
        with caplog.at_level(logging.WARNING, logger="fmc.platform"):
            assert _post(served, "1001", body, BAKERY.secret) == 200
        assert _registered(served, "2001", "p1")
        assert not _registered(served, page, "px")
        assert why in caplog.text

    def test_disconnected_page_is_refused(self, served: Platform) -> None:
        """A disconnected Page's entries are not processed."""
        served.registry.set_status("2001", PageStatus.DISCONNECTED)
        assert _post(served, "1001", _body(("2001", "p1", "m1")), BAKERY.secret) == 200
        assert not _registered(served, "2001", "p1")

    def test_redirect_to_in_the_query_wins(self, served: Platform) -> None:
        """A redirect_to in the query is where the delivery is forwarded."""
        body = _body(("2001", "p1", "m1"))
        query = {"redirect_to": "https://bot.bakery.test/own"}
        assert _post(served, "1001", body, BAKERY.secret, query) == 200
        forwarder = served.channel("2001").webhook.forwarder
        assert [url for url, _ in forwarder.submitted] == ["https://bot.bakery.test/own"]  # type: ignore[union-attr]

    def test_page_default_redirect_to(self, served: Platform) -> None:
        """Without one in the query, the Page's default redirect_to receives its entries."""
        assert _post(served, "1001", _body(("2002", "p2", "m1")), BAKERY.secret) == 200
        forwarder = served.channel("2002").webhook.forwarder
        assert [url for url, _ in forwarder.submitted] == ["https://bot.bakery.test/hook"]  # type: ignore[union-attr]

    def test_split_parts_are_signed_for_the_business(self, served: Platform) -> None:
        """A split delivery forwards only the Page's own entries, signed with its app's secret."""
        body = _body(("2001", "p1", "m1"), ("2002", "p2", "m2"))
        assert _post(served, "1001", body, BAKERY.secret) == 200
        forwarder = served.channel("2002").webhook.forwarder
        [(_, part)] = forwarder.submitted  # type: ignore[union-attr]
        assert [e["id"] for e in json.loads(part)["entry"]] == ["2002"]
        assert served.webhook._front(BAKERY).verifier.is_valid(
            part, signature_headers(part, BAKERY.secret)["X-Hub-Signature-256"]
        )


STORE_BACKENDS = ["memory", "sqlite", "postgres"]


class FailingOnce(MemoryStore):
    """A memory store whose first delivery commit fails."""

    failed = False

    def apply_delivery(self, write: DeliveryWrite, *, timeout: float | None = None) -> Any:
        if not self.failed:
            self.failed = True
            from fmc.errors import StoreError

            raise StoreError("database down")
        return super().apply_delivery(write, timeout=timeout)


def test_not_durable_is_503_then_redelivery_counts_once(keys: Any) -> None:
    """A Page part that cannot be committed makes the answer 503; Meta's redelivery succeeds."""
    store = FailingOnce()
    with Platform(store, keys=keys) as platform:
        platform.add_app(BAKERY)
        for page_id in ("2001", "2002"):
            platform.registry.put_page(PageRecord(page_id, "1001", f"token-{page_id}"))
        body = _body(("2001", "p1", "m1"), ("2002", "p2", "m2"))
        assert _post(platform, "1001", body, BAKERY.secret) == 503
        assert _post(platform, "1001", body, BAKERY.secret) == 200
        assert store.get("2001", "p1") is not None
        assert store.get("2002", "p2") is not None
