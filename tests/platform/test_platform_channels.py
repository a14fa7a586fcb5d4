"""platform.channel(page_id): each Page's own Channel, cached, rebuilt after a change."""

from __future__ import annotations

import pytest

from fmc.platform import App, PageRecord, PageStatus, Platform, UnknownAccountError
from fmc.platform.channels import TokenWatch
from fmc.policy import Permission
from fmc.transport import Client
from fmc.transport.http import RequestsTransport


def _connect(platform: Platform, page_id: str = "2001", **changes: object) -> None:
    values: dict[str, object] = {
        "id": page_id,
        "app_id": "1001",
        "access_token": f"token-{page_id}",
        "permissions": {"pages_messaging"},
    }
    values.update(changes)
    platform.registry.put_page(PageRecord(**values))  # type: ignore[arg-type]


@pytest.fixture
def with_app(platform: Platform) -> Platform:
    """The platform with app 1001 registered."""
    platform.add_app(App("1001", ("new-secret", "old-secret"), "verify", name="Bakery"))
    return platform


def _session(client: Client) -> object:
    """The requests session a client sends through (its transport's, under a TokenWatch)."""
    transport = client._transport
    if isinstance(transport, TokenWatch):
        transport = transport.inner
    assert isinstance(transport, RequestsTransport)
    return transport.session


class TestChannel:
    def test_page_credentials(self, with_app: Platform) -> None:
        """The channel speaks as the Page, with its app's newest secret for the proof."""
        _connect(with_app)
        channel = with_app.channel("2001")
        assert channel.page.id == "2001"
        assert channel.page.access_token == "token-2001"
        assert channel.page.app_secret == "new-secret"

    def test_policy_from_the_page_permissions(self, with_app: Platform) -> None:
        """Each Page's policy is built from its own granted permissions."""
        _connect(with_app, "1", permissions={"pages_messaging"})
        _connect(with_app, "2", permissions={"pages_messaging", "human_agent", "pages_show_list"})
        assert with_app.channel("1").policy.permissions == {Permission.PAGES_MESSAGING}
        assert with_app.channel("2").policy.permissions == {
            Permission.PAGES_MESSAGING,
            Permission.HUMAN_AGENT,
        }

    def test_own_rate_limit_shared_pool(self, with_app: Platform) -> None:
        """Each Page has its own rate limiter, while every client shares one session."""
        _connect(with_app, "1")
        _connect(with_app, "2")
        with Platform(with_app.store, keys=with_app.keys, rate_limit=5.0) as limited:
            one, two = limited.channel("1"), limited.channel("2")
            assert one.client.rate_limiter is not None
            assert one.client.rate_limiter is not two.client.rate_limiter
            assert _session(one.client) is _session(two.client) is limited.session

    def test_cached(self, with_app: Platform) -> None:
        """Two lookups return the same channel object."""
        _connect(with_app)
        assert with_app.channel("2001") is with_app.channel("2001")

    def test_rebuilt_after_a_change(self, with_app: Platform) -> None:
        """A new token for the Page gives a new channel with it."""
        _connect(with_app)
        before = with_app.channel("2001")
        _connect(with_app, access_token="fresh-token")
        after = with_app.channel("2001")
        assert after is not before
        assert after.page.access_token == "fresh-token"

    @pytest.mark.parametrize(
        "status", [None, PageStatus.DISCONNECTED], ids=["unknown", "disconnected"]
    )
    def test_not_connected_is_an_error(self, with_app: Platform, status: PageStatus | None) -> None:
        """An unknown or disconnected Page: UnknownAccountError naming how to connect it."""
        if status is not None:
            _connect(with_app, status=status)
        with pytest.raises(UnknownAccountError, match="fmc pages connect"):
            with_app.channel("2001")

    def test_token_invalid_page_still_has_a_channel(self, with_app: Platform) -> None:
        """A Page whose token died keeps its channel (its deliveries still register people)."""
        _connect(with_app, status=PageStatus.TOKEN_INVALID)
        assert with_app.channel("2001").page.id == "2001"
