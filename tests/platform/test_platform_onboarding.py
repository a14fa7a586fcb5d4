"""Connecting Pages against the fake Graph API: token checks, subscription, health."""

from __future__ import annotations

from typing import Any

import pytest

from fmc.platform import App, OnboardingError, PageStatus, Platform
from fmc.testing import FakeGraphAPI

BAKERY = App("1001", "bakery-secret", "bakery-verify", name="Bakery")
GARAGE = App("1002", "garage-secret", "garage-verify", name="Garage")


@pytest.fixture
def fake(requests_mock: Any) -> FakeGraphAPI:
    """A fake Graph API that knows both apps, three Pages and a user token."""
    graph = FakeGraphAPI()
    graph.tenants.add_app(BAKERY.id, BAKERY.secret)
    graph.tenants.add_app(GARAGE.id, GARAGE.secret)
    graph.tenants.add_page("2001", "bakery-token", app_id=BAKERY.id, name="Bakery Page")
    graph.tenants.add_page("2002", "bakery-token-2", app_id=BAKERY.id)
    graph.tenants.add_page("3001", "garage-token", app_id=GARAGE.id)
    graph.tenants.add_page(
        "2003", "no-messaging-token", app_id=BAKERY.id, scopes=["pages_manage_metadata"]
    )
    graph.tenants.add_page("2001", "bakery-token-via-garage", app_id=GARAGE.id)
    graph.tenants.add_user_token("user-token", app_id=BAKERY.id)
    graph.mock(requests_mock)
    return graph


@pytest.fixture
def apps(platform: Platform, fake: FakeGraphAPI) -> Platform:
    """The platform with both apps registered."""
    platform.add_app(BAKERY)
    platform.add_app(GARAGE)
    return platform


class TestConnect:
    def test_connect_subscribes_and_stores(self, apps: Platform, fake: FakeGraphAPI) -> None:
        """A good Page token: the app is subscribed to the Page and the Page stored active."""
        record = apps.connect_page(BAKERY, "bakery-token", redirect_to="https://bot.test/h")
        assert record.id == "2001"
        assert record.name == "Bakery Page"
        assert record.status is PageStatus.ACTIVE
        assert "pages_messaging" in record.permissions
        assert "messages" in fake.tenants.subscriptions["2001"][BAKERY.id]
        assert apps.registry.page("2001") == record
        assert apps.channel("2001").page.access_token == "bakery-token"

    @pytest.mark.parametrize(
        ("token", "fragment"),
        [
            ("user-token", "not a Page access token"),
            ("no-messaging-token", "pages_messaging"),
            ("garage-token", "issued through app 1002"),
        ],
        ids=["user-token", "no-pages-messaging", "other-app-token"],
    )
    def test_bad_tokens_name_the_fix(self, apps: Platform, token: str, fragment: str) -> None:
        """A user token, a token without pages_messaging or of another app: a clear error."""
        with pytest.raises(OnboardingError, match=fragment) as caught:
            apps.connect_page("1001", token)
        assert token not in str(caught.value)

    def test_page_of_another_app_is_refused(self, apps: Platform) -> None:
        """A Page already connected to the bakery cannot be connected to the garage."""
        apps.connect_page(BAKERY, "bakery-token")
        with pytest.raises(OnboardingError, match="already connected to app 1001"):
            apps.connect_page(GARAGE, "bakery-token-via-garage")

    def test_wrong_page_id_is_refused(self, apps: Platform) -> None:
        """Naming another Page than the token's own is refused."""
        with pytest.raises(OnboardingError, match="belongs to Page 2001"):
            apps.connect_page(BAKERY, "bakery-token", page_id="2002")


class TestHealth:
    def test_revoked_token_is_marked_token_invalid(
        self, apps: Platform, fake: FakeGraphAPI
    ) -> None:
        """check_pages: a revoked token marks its Page token_invalid; the other stays active."""
        apps.connect_page(BAKERY, "bakery-token")
        apps.connect_page(BAKERY, "bakery-token-2")
        fake.tenants.revoke("bakery-token")
        health = {h.page_id: h.status for h in apps.check_pages()}
        assert health == {"2001": PageStatus.TOKEN_INVALID, "2002": PageStatus.ACTIVE}
        assert apps.registry.page("2001").status is PageStatus.TOKEN_INVALID  # type: ignore[union-attr]

    def test_reconnecting_with_a_fresh_token_resumes(
        self, apps: Platform, fake: FakeGraphAPI
    ) -> None:
        """After a dead token, connecting a fresh one makes the Page active again."""
        apps.connect_page(BAKERY, "bakery-token")
        fake.tenants.revoke("bakery-token")
        apps.check_pages()
        fake.tenants.add_page("2001", "bakery-token-new", app_id=BAKERY.id)
        assert apps.connect_page(BAKERY, "bakery-token-new").status is PageStatus.ACTIVE

    def test_send_with_revoked_token_is_190(self, apps: Platform, fake: FakeGraphAPI) -> None:
        """The fake answers 190 to any call made with a revoked token."""
        from fmc.errors import AuthenticationError
        from fmc.models import Text
        from fmc.models.recipient import Recipient

        apps.connect_page(BAKERY, "bakery-token")
        fake.tenants.revoke("bakery-token")
        with pytest.raises(AuthenticationError):
            apps.channel("2001").client.send(Recipient(id="p1"), Text("hi"))

    def test_a_190_on_any_call_marks_the_page_token_invalid(
        self, apps: Platform, fake: FakeGraphAPI
    ) -> None:
        """A 190 on a plain send (no check, no broadcast) marks that Page only, naming no token."""
        from fmc.errors import AuthenticationError
        from fmc.models import Text
        from fmc.models.recipient import Recipient

        apps.connect_page(BAKERY, "bakery-token")
        apps.connect_page(BAKERY, "bakery-token-2")
        fake.tenants.revoke("bakery-token")
        with pytest.raises(AuthenticationError):
            apps.channel("2001").client.send(Recipient(id="p1"), Text("hi"))
        dead, alive = apps.registry.page("2001"), apps.registry.page("2002")
        assert dead is not None
        assert alive is not None
        assert (dead.status, alive.status) == (PageStatus.TOKEN_INVALID, PageStatus.ACTIVE)
        assert dead.status_reason == "Graph answered 190 to send"
        assert "bakery-token" not in repr(dead)

    def test_a_dead_page_is_skipped_by_the_next_broadcast(
        self, apps: Platform, fake: FakeGraphAPI
    ) -> None:
        """After a 190 on any call, a broadcast lists the Page as token_invalid, sends nothing."""
        from fmc.errors import AuthenticationError
        from fmc.models import Text
        from fmc.models.recipient import Recipient
        from fmc.policy import Purpose

        apps.connect_page(BAKERY, "bakery-token")
        fake.tenants.revoke("bakery-token")
        with pytest.raises(AuthenticationError):
            apps.channel("2001").client.send(Recipient(id="p1"), Text("hi"))
        report = apps.broadcast(Text("hi"), Purpose.RESPONSE, pages=["2001"])
        assert report.not_sent == {"2001": "token_invalid: Graph answered 190 to send"}

    def test_other_graph_errors_leave_the_page_active(
        self, apps: Platform, fake: FakeGraphAPI
    ) -> None:
        """A refusal that is not 190 (a person Meta says is unavailable) does not mark the Page."""
        from fmc.errors import RecipientUnavailableError
        from fmc.models import Text
        from fmc.models.recipient import Recipient
        from fmc.testing import Fault

        apps.connect_page(BAKERY, "bakery-token")
        fake.faults.add(Fault.unavailable(["p1"]))
        with pytest.raises(RecipientUnavailableError):
            apps.channel("2001").client.send(Recipient(id="p1"), Text("hi"))
        assert apps.registry.page("2001").status is PageStatus.ACTIVE  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        ("revoked", "status"),
        [(False, PageStatus.ACTIVE), (True, PageStatus.TOKEN_INVALID)],
        ids=["working", "revoked"],
    )
    def test_without_the_app_token_a_cheap_call_decides(
        self, apps: Platform, fake: FakeGraphAPI, revoked: bool, status: PageStatus
    ) -> None:
        """A Page of an app the platform does not hold: check_pages reads the Page instead."""
        from fmc.platform import PageRecord

        fake.tenants.add_page("4001", "stray-page-token-01", app_id="7777")
        apps.registry.put_page(PageRecord("4001", "7777", "stray-page-token-01"))
        if revoked:
            fake.tenants.revoke("stray-page-token-01")
        (health,) = apps.check_pages(app_id="7777")
        assert (health.page_id, health.status) == ("4001", status)

    def test_disconnect_unsubscribes_and_refuses(self, apps: Platform, fake: FakeGraphAPI) -> None:
        """disconnect_page unsubscribes the app and marks the Page disconnected."""
        apps.connect_page(BAKERY, "bakery-token")
        apps.disconnect_page("2001")
        assert fake.tenants.subscriptions["2001"] == {}
        assert apps.registry.page("2001").status is PageStatus.DISCONNECTED  # type: ignore[union-attr]
