"""Connecting Pages: check the token with ``debug_token``, subscribe the app, store the Page.

Meta's facts this follows (see the guide "Serving many businesses"):
``GET /debug_token`` with the app token tells a token's ``type``, ``app_id``,
``profile_id`` (the Page of a Page token), ``scopes`` and ``is_valid``;
``POST /{page-id}/subscribed_apps`` with ``subscribed_fields`` and the Page token
(``pages_manage_metadata``) subscribes the app to the Page; ``DELETE`` on the same
edge unsubscribes it. No webhook announces a dead token: a 190 is the signal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import requests

from fmc.errors import AuthenticationError, GraphAPIError
from fmc.models.page import Page
from fmc.platform.errors import OnboardingError
from fmc.platform.records import App, PageRecord, PageStatus
from fmc.platform.registry import Registry
from fmc.transport import Client

__all__ = ["DEFAULT_FIELDS", "Onboarding", "PageHealth", "TokenInfo"]

#: The webhook fields fmc subscribes a Page to (messages, postbacks, opt-ins,
#: deliveries and reads, reactions, referrals, policy enforcement, handover).
DEFAULT_FIELDS: tuple[str, ...] = (
    "messages",
    "messaging_postbacks",
    "messaging_optins",
    "message_deliveries",
    "message_reads",
    "message_reactions",
    "messaging_referrals",
    "messaging_policy_enforcement",
    "messaging_handovers",
)

#: Builds a client speaking with ``page``'s token: ``(page) -> Client``.
ClientFor = Callable[[Page], Client]


def app_page(app: App) -> Page:
    """The app as a :class:`~fmc.Page` for app-level calls: its id, app token and secret."""
    return Page(app.id, app.access_token, app_secret=app.secret)


@attrs.frozen
class TokenInfo:
    """What ``debug_token`` says of a token (never the token itself)."""

    valid: bool
    type: str
    app_id: str | None
    profile_id: str | None
    scopes: frozenset[str]

    @classmethod
    def from_graph(cls, data: dict[str, Any]) -> TokenInfo:
        """Read Graph's ``{"data": {...}}`` answer."""
        info = data.get("data") or {}
        return cls(
            bool(info.get("is_valid")),
            str(info.get("type") or ""),
            None if info.get("app_id") is None else str(info["app_id"]),
            None if info.get("profile_id") is None else str(info["profile_id"]),
            frozenset(str(s) for s in info.get("scopes") or ()),
        )


@attrs.frozen
class PageHealth:
    """One Page's token health, as :meth:`Platform.check_pages` found it."""

    page_id: str
    app_id: str
    status: PageStatus
    reason: str | None


class Onboarding:
    """Connects, disconnects and checks Pages for a platform.

    Args:
        registry: Where apps and Pages are stored.
        client_for: Builds a client for a Page (the platform's base URL, session).
        subscribed_fields: The webhook fields each Page is subscribed to.
    """

    def __init__(
        self,
        registry: Registry,
        client_for: ClientFor,
        *,
        subscribed_fields: Sequence[str] = DEFAULT_FIELDS,
    ) -> None:
        self._registry = registry
        self._client_for = client_for
        self.subscribed_fields = tuple(subscribed_fields)

    def debug_token(self, app: App, token: str) -> TokenInfo:
        """Ask ``debug_token`` about ``token`` with the app's token."""
        with self._client_for(app_page(app)) as client:
            answer = client.call_graph(
                "GET", "debug_token", what="debug_token", params={"input_token": token}
            )
        return TokenInfo.from_graph(answer)

    def connect(
        self,
        app: App,
        page_token: str,
        *,
        page_id: str | None = None,
        name: str | None = None,
        redirect_to: str | None = None,
    ) -> PageRecord:
        """Check the token, subscribe the app to its Page, store the Page."""
        info = self.debug_token(app, page_token)
        found_id = _checked(app, info, page_id)
        existing = self._registry.page(found_id)
        if (
            existing is not None
            and existing.app_id != app.id
            and existing.status is not PageStatus.DISCONNECTED
        ):
            raise OnboardingError(
                f"Page {found_id} is already connected to app {existing.app_id} of this "
                f"platform; disconnect it there first (`fmc pages disconnect {found_id}`), "
                "then connect it to this app"
            )
        with self._client_for(Page(found_id, page_token, app_secret=app.secret)) as client:
            client.call_graph(
                "POST",
                f"{found_id}/subscribed_apps",
                what="subscribe the app to the Page",
                params={"subscribed_fields": ",".join(self.subscribed_fields)},
            )
            if name is None:
                name = str(client.call_graph("GET", found_id, what="read the Page").get("name"))
        record = PageRecord(
            found_id,
            app.id,
            page_token,
            name=name,
            redirect_to=redirect_to,
            permissions=info.scopes,
            status=PageStatus.ACTIVE,
        )
        self._registry.put_page(record)
        return record

    def disconnect(self, page: PageRecord, app: App, *, unsubscribe: bool = True) -> None:
        """Unsubscribe the app from the Page (if its token works); mark it disconnected."""
        if unsubscribe and page.status is PageStatus.ACTIVE:
            client = self._client_for(Page(page.id, page.access_token, app_secret=app.secret))
            # The Page is disconnected here whatever Meta says.
            with client, contextlib.suppress(GraphAPIError):
                client.call_graph("DELETE", f"{page.id}/subscribed_apps", what="unsubscribe")
        self._registry.set_status(page.id, PageStatus.DISCONNECTED, reason="disconnected")

    def check(self, pages: Iterable[PageRecord]) -> list[PageHealth]:
        """Each Page's token health; a dead token marks its Page ``token_invalid``."""
        results = []
        for page in pages:
            if page.status is PageStatus.DISCONNECTED:
                continue
            app = self._registry.app(page.app_id)
            status, reason = self._health(page, app)
            if status is not page.status:
                self._registry.set_status(page.id, status, reason=reason)
            results.append(PageHealth(page.id, page.app_id, status, reason))
        return results

    def _health(self, page: PageRecord, app: App | None) -> tuple[PageStatus, str | None]:
        try:
            if app is not None:
                info = self.debug_token(app, page.access_token)
                if not info.valid:
                    return PageStatus.TOKEN_INVALID, "debug_token: the token is not valid"
                if "pages_messaging" not in info.scopes:
                    return PageStatus.RESTRICTED, "the token lost pages_messaging"
                return PageStatus.ACTIVE, None
            with self._client_for(Page(page.id, page.access_token)) as client:
                client.call_graph("GET", page.id, what="read the Page")
            return PageStatus.ACTIVE, None
        except AuthenticationError as error:
            return PageStatus.TOKEN_INVALID, f"Graph error {error.code}: the token is dead"


def _checked(app: App, info: TokenInfo, page_id: str | None) -> str:
    """The Page id of a token fit to connect, or an OnboardingError naming the fix."""
    if not info.valid:
        raise OnboardingError(
            "the token is not valid (expired or revoked); generate a new Page access token "
            "and connect again"
        )
    if info.type != "PAGE" or info.profile_id is None:
        raise OnboardingError(
            f"this is a {info.type or 'non-Page'} token, not a Page access token; get the "
            "Page's token with GET /me/accounts (or the app dashboard's Messenger settings) "
            "and connect with that"
        )
    if info.app_id != app.id:
        raise OnboardingError(
            f"the token was issued through app {info.app_id}, not app {app.id}; generate it "
            f"with app {app.id}, or connect the Page to app {info.app_id}"
        )
    if "pages_messaging" not in info.scopes:
        raise OnboardingError(
            "the token was not granted pages_messaging; grant it when generating the Page "
            "token (app review: pages_messaging), then connect again"
        )
    if page_id is not None and page_id != info.profile_id:
        raise OnboardingError(
            f"the token belongs to Page {info.profile_id}, not Page {page_id}; use Page "
            f"{page_id}'s own token"
        )
    return info.profile_id


def onboarding_clients(*, base_url: str, api_version: str, session: requests.Session) -> ClientFor:
    """Clients for onboarding calls, without retries, on the shared session."""
    from fmc.transport import RetryPolicy

    def make(page: Page) -> Client:
        return Client(
            page,
            base_url=base_url,
            api_version=api_version,
            session=session,
            retry=RetryPolicy.none(),
        )

    return make
