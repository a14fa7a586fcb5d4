"""An app's own webhook on Meta's side (``/{app-id}/subscriptions``) against the fake Graph API."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from fmc.errors import GraphAPIError
from fmc.platform import (
    DEFAULT_FIELDS,
    App,
    AppSubscription,
    OnboardingError,
    Platform,
    UnknownAccountError,
)
from fmc.testing import FakeGraphAPI

BAKERY = App("1001", "bakery-app-secret-0001", "bakery-verify-token-01", name="Bakery")
URL = "https://platform.example/webhook/1001"
SECRETS = (BAKERY.secret, BAKERY.verify_token, BAKERY.access_token)


@pytest.fixture
def fake(requests_mock: Any) -> FakeGraphAPI:
    """A fake Graph API that knows the bakery's app."""
    graph = FakeGraphAPI()
    graph.tenants.add_app(BAKERY.id, BAKERY.secret)
    graph.mock(requests_mock)
    return graph


@pytest.fixture
def app(platform: Platform, fake: FakeGraphAPI) -> Platform:
    """The platform with the bakery's app registered."""
    platform.add_app(BAKERY)
    return platform


def _answered_by(platform: Platform) -> Any:
    """Meta's handshake GET, answered by the platform's own endpoint."""

    def check(url: str, query: Mapping[str, str]) -> tuple[int, bytes]:
        path = url.split("://", 1)[1].split("/", 1)[1]
        response = platform.webhook.respond("GET", "/" + path, dict(query), {}, b"")
        return response.status, response.body

    return check


class TestSetAppWebhook:
    def test_set_subscribes_the_page_object_with_the_apps_verify_token(
        self, app: Platform, fake: FakeGraphAPI
    ) -> None:
        """set_app_webhook posts object=page, the URL, the app's verify token and the fields."""
        found = app.set_app_webhook("1001", URL)
        assert found == AppSubscription("page", URL, True, DEFAULT_FIELDS)
        held = fake.tenants.app_subscriptions["1001"]["page"]
        assert held["verify_token"] == BAKERY.verify_token
        assert held["fields"] == list(DEFAULT_FIELDS)

    def test_metas_handshake_is_answered_by_the_platform(
        self, app: Platform, fake: FakeGraphAPI
    ) -> None:
        """With the fake running Meta's handshake against the platform, setting succeeds."""
        fake.tenants.verify_callback = _answered_by(app)
        assert app.set_app_webhook(BAKERY, URL).active

    def test_a_failed_handshake_is_refused_and_nothing_is_set(
        self, app: Platform, fake: FakeGraphAPI
    ) -> None:
        """A callback that fails Meta's handshake: GraphAPIError 2200, no subscription kept."""
        fake.tenants.verify_callback = lambda url, query: (403, b"forbidden")
        with pytest.raises(GraphAPIError) as caught:
            app.set_app_webhook("1001", URL)
        assert caught.value.code == 2200
        assert fake.tenants.app_subscriptions.get("1001", {}) == {}

    def test_fields_can_be_chosen(self, app: Platform) -> None:
        """Only the fields asked for are subscribed."""
        found = app.set_app_webhook("1001", URL, fields=["messages", "messaging_postbacks"])
        assert found.fields == ("messages", "messaging_postbacks")

    @pytest.mark.parametrize(
        ("url", "fragment"),
        [
            ("http://platform.example/webhook/1001", "https://"),
            ("/webhook/1001", "https://"),
            ("https://platform.example/webhook/1001#top", "fragment"),
            ("https://platform.example/webhook/1002", "answers app 1001 at '/webhook/1001'"),
            ("https://platform.example/", "answers app 1001 at '/webhook/1001'"),
        ],
        ids=["plain-http", "relative", "fragment", "another-apps-path", "root"],
    )
    def test_a_url_meta_cannot_use_names_the_fix(
        self, app: Platform, fake: FakeGraphAPI, url: str, fragment: str
    ) -> None:
        """A URL that is not https, or names another path: OnboardingError, nothing sent."""
        with pytest.raises(OnboardingError, match=fragment):
            app.set_app_webhook("1001", url)
        assert fake.tenants.app_subscriptions == {}

    def test_a_rewritten_path_is_allowed_when_asked(self, app: Platform) -> None:
        """check_path=False accepts a path a proxy rewrites."""
        found = app.set_app_webhook("1001", "https://edge.example/hooks/b", check_path=False)
        assert found.callback_url == "https://edge.example/hooks/b"

    def test_a_query_string_is_kept(self, app: Platform) -> None:
        """A redirect_to in the callback URL's query is part of the URL Meta calls."""
        url = URL + "?redirect_to=https%3A%2F%2Fbot.example%2Fhook"
        assert app.set_app_webhook("1001", url).callback_url == url

    def test_no_fields_is_refused(self, app: Platform) -> None:
        """An empty field list: OnboardingError naming DEFAULT_FIELDS."""
        with pytest.raises(OnboardingError, match="DEFAULT_FIELDS"):
            app.set_app_webhook("1001", URL, fields=[])

    def test_an_unknown_app_is_refused(self, app: Platform) -> None:
        """An app that is not registered: UnknownAccountError naming `fmc apps add`."""
        with pytest.raises(UnknownAccountError, match="fmc apps add"):
            app.set_app_webhook("9999", "https://platform.example/webhook/9999")


class TestReadAndDelete:
    def test_no_webhook_reads_as_none(self, app: Platform) -> None:
        """An app without a page subscription: app_webhook is None."""
        assert app.app_webhook("1001") is None

    def test_read_back_what_was_set(self, app: Platform) -> None:
        """app_webhook returns the callback, fields and state Meta lists."""
        app.set_app_webhook("1001", URL, fields=["messages"])
        assert app.app_webhook(BAKERY) == AppSubscription("page", URL, True, ("messages",))

    def test_delete_removes_it(self, app: Platform, fake: FakeGraphAPI) -> None:
        """delete_app_webhook removes the page subscription."""
        app.set_app_webhook("1001", URL)
        app.delete_app_webhook("1001")
        assert app.app_webhook("1001") is None
        assert fake.tenants.app_subscriptions["1001"] == {}


class TestSecrets:
    def test_a_refusal_holds_no_secret(
        self, app: Platform, fake: FakeGraphAPI, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Meta refusing the app token: the error and fmc's log lines hold no secret.

        (requests_mock's own DEBUG line shows the raw URL; it is the test's tool.)
        """
        fake.tenants.add_app("1001", "a-rotated-app-secret-02")
        caplog.set_level(logging.DEBUG)
        with pytest.raises(GraphAPIError) as caught:
            app.set_app_webhook("1001", URL)
        logged = [r.getMessage() for r in caplog.records if r.name.startswith("fmc")]
        assert logged
        text = str(caught.value) + repr(caught.value) + "\n".join(logged)
        for secret in SECRETS:
            assert secret not in text

    def test_the_verify_token_never_travels_in_a_url(
        self, app: Platform, requests_mock: Any
    ) -> None:
        """The verify token goes in the body: no requested URL holds it."""
        app.set_app_webhook("1001", URL)
        assert requests_mock.request_history
        for request in requests_mock.request_history:
            assert BAKERY.verify_token not in request.url

    def test_a_subscription_has_no_verify_token(self, app: Platform) -> None:
        """What is read back (and its repr) never holds the verify token or secret."""
        found = app.set_app_webhook("1001", URL)
        for secret in SECRETS:
            assert secret not in repr(found)


def test_over_loopback_metas_handshake_reaches_the_served_platform() -> None:
    """Fake Graph on loopback, platform under make_wsgi_app: the handshake goes over HTTP."""
    import threading
    import urllib.parse
    import urllib.request
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from fmc.platform import KeyRing, make_wsgi_app
    from fmc.store import MemoryStore

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    fake = FakeGraphAPI()
    fake.tenants.add_app(BAKERY.id, BAKERY.secret)
    with fake.serve() as graph:
        platform = Platform(MemoryStore(), keys=[KeyRing.generate_key()], base_url=graph)
        platform.add_app(BAKERY)
        server = make_server("127.0.0.1", 0, make_wsgi_app(platform.webhook), handler_class=Quiet)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        seen: list[str] = []

        def over_http(url: str, query: Mapping[str, str]) -> tuple[int, bytes]:
            # The TLS proxy's part: https://platform.example/... -> the local server.
            path = urllib.parse.urlsplit(url).path
            local = f"http://127.0.0.1:{server.server_port}{path}?{urllib.parse.urlencode(query)}"
            seen.append(path)
            with urllib.request.urlopen(local, timeout=5) as answer:
                return int(answer.status), answer.read()

        fake.tenants.verify_callback = over_http
        try:
            found = platform.set_app_webhook("1001", URL)
        finally:
            server.shutdown()
            thread.join()
            server.server_close()
            platform.close()
    assert found.active
    assert seen == ["/webhook/1001"]
