"""The :class:`Platform`: many Facebook apps and Pages served by one deployment."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import requests

from fmc._closing import Closing
from fmc.channel import Channel
from fmc.platform.broadcasts import PlatformBroadcastReport, broadcast_pages
from fmc.platform.channels import ChannelCache, ClientFactory, default_client_factory
from fmc.platform.errors import UnknownAccountError
from fmc.platform.keys import KeyRing, KeySource
from fmc.platform.onboarding import DEFAULT_FIELDS, Onboarding, PageHealth, onboarding_clients
from fmc.platform.plans import PlatformBroadcastPlan, plan_pages
from fmc.platform.records import App, PageRecord, PageStatus
from fmc.platform.registry import Registry
from fmc.platform.subscriptions import AppSubscription, AppSubscriptions
from fmc.platform.webhook import DEFAULT_PREFIX, PlatformWebhook
from fmc.policy import MessagingPolicy
from fmc.store.base import SubscriberStore
from fmc.store.registry import RegistryStore
from fmc.transport import DEFAULT_API_VERSION, DEFAULT_BASE_URL, RetryPolicy
from fmc.webhook import Forwarder

if TYPE_CHECKING:
    from fmc.models import Message
    from fmc.policy import Purpose

__all__ = ["Platform", "PlatformStore"]


class PlatformStore(SubscriberStore, RegistryStore):
    """A store that keeps subscribers and the registry (every fmc store does)."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Platform(Closing):
    """Many businesses, one deployment: apps, Pages, one webhook, per-Page channels.

    Args:
        store: Any fmc store (SQLite by default in the CLI, PostgreSQL, memory);
            it keeps the registry beside the subscribers.
        keys: Seals secrets at rest: a :class:`KeyRing`, or the keys (newest
            first) or a callable returning them. Required: nothing reads the
            process environment behind your back; for ``FMC_ENCRYPTION_KEYS``
            pass ``KeyRing.from_env(os.environ)``.
        base_url: Graph's root URL (a fake Graph API in tests).
        api_version: The pinned Graph version.
        rate_limit: Sends per second, per Page (each Page has its own limiter).
        retry: The clients' retry policy.
        forwarder: Forwards deliveries to ``redirect_to`` addresses.
        policy: Builds a Page's policy from its record (default: its permissions).
        session: The pooled session every Page's client shares (owned when ``None``).
        client_factory: Builds a Page's client (overrides the four options
            above; wrap its transport in ``fmc.platform.channels.TokenWatch``
            to keep marking Pages whose token Graph answers 190 for).
        webhook_prefix: The path before each app id.
        refresh_every: Seconds between checks for other processes' registry changes.
        subscribed_fields: The webhook fields each connected Page is subscribed to.
        clock: Aware UTC now.

    Raises:
        fmc.platform.EncryptionKeyError: no key, or a malformed one.

    Example:
        >>> import fmc
        >>> from fmc.platform import App, KeyRing, Platform, PageRecord
        >>> platform = Platform(fmc.MemoryStore(), keys=KeyRing([KeyRing.generate_key()]))
        >>> platform.add_app(App("1001", "app-secret", "verify-me", name="Bakery"))
        >>> platform.registry.put_page(PageRecord("2001", "1001", "page-token",
        ...                                       permissions={"pages_messaging"}))
        >>> platform.channel("2001").page.id
        '2001'
    """

    def __init__(
        self,
        store: PlatformStore | SubscriberStore,
        *,
        keys: KeyRing | KeySource,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        rate_limit: float | None = None,
        retry: RetryPolicy | None = None,
        forwarder: Forwarder | None = None,
        policy: Callable[[PageRecord], MessagingPolicy] | None = None,
        session: requests.Session | None = None,
        client_factory: ClientFactory | None = None,
        webhook_prefix: str = DEFAULT_PREFIX,
        refresh_every: float = 2.0,
        subscribed_fields: Sequence[str] = DEFAULT_FIELDS,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.keys = keys if isinstance(keys, KeyRing) else KeyRing(keys)
        self.base_url = base_url
        self.api_version = api_version
        if not isinstance(store, RegistryStore):
            raise TypeError(f"{type(store).__name__} does not keep a registry")
        self.registry = Registry(store, self.keys, refresh_every=refresh_every, clock=clock)
        self._owns_session = session is None
        self.session = session if session is not None else _pooled_session()
        factory = client_factory or default_client_factory(
            base_url=base_url,
            api_version=api_version,
            rate_limit=rate_limit,
            retry=retry,
            on_dead_token=self._token_died,
        )
        self._channels = ChannelCache(
            self.registry,
            store,
            session=self.session,
            client_factory=factory,
            forwarder=forwarder,
            policy=policy,
            clock=clock,
        )
        self.webhook = PlatformWebhook(self.registry, self._channels, prefix=webhook_prefix)
        clients = onboarding_clients(
            base_url=base_url, api_version=api_version, session=self.session
        )
        self._onboarding = Onboarding(self.registry, clients, subscribed_fields=subscribed_fields)
        self._subscriptions = AppSubscriptions(clients, prefix=self.webhook.prefix)
        self._clock = clock

    def __repr__(self) -> str:
        return f"Platform(store={type(self.store).__name__}, channels={len(self._channels)})"

    def close(self) -> None:
        """Close the shared session if the platform made it."""
        if self._owns_session:
            self.session.close()

    def _token_died(self, page_id: str, reason: str) -> None:
        """Mark an active Page ``token_invalid`` once Graph answered 190 for its token."""
        record = self.registry.page(page_id)
        if record is not None and record.status is PageStatus.ACTIVE:
            self.registry.set_status(page_id, PageStatus.TOKEN_INVALID, reason=reason)

    def add_app(self, app: App) -> None:
        """Register an app (or replace its secrets, verify token and name)."""
        self.registry.add_app(app)

    def channel(self, page_id: str) -> Channel:
        """That Page's channel: its policy, its rate limit, the shared connection pool.

        Raises:
            fmc.platform.UnknownAccountError: the Page is not connected.
        """
        return self._channels.get(page_id)

    def connect_page(
        self,
        app: App | str,
        page_token: str,
        *,
        page_id: str | None = None,
        name: str | None = None,
        redirect_to: str | None = None,
    ) -> PageRecord:
        """Connect a Page: check its token, subscribe the app to it, store it.

        The token is checked with ``debug_token`` (it must be a valid *Page*
        token issued through this app, granted ``pages_messaging``); the app
        is subscribed with ``POST /{page-id}/subscribed_apps``; the Page is
        stored active (reconnecting a Page whose token died resumes it).

        Args:
            app: The app (or its id) the Page's deliveries come through.
            page_token: The Page access token.
            page_id: The Page expected (refused when the token is another's).
            name: Its name (read from Graph when ``None``).
            redirect_to: Where its deliveries are forwarded by default.

        Returns:
            The stored Page.

        Raises:
            fmc.platform.OnboardingError: a user token, a token of another app
                or Page, no ``pages_messaging``, an invalid token, or a Page
                connected to another app of this platform; the message says
                how to fix it.
            fmc.platform.UnknownAccountError: the app is not registered.
            fmc.errors.GraphAPIError: Meta refused the subscription.
        """
        found = self.registry.require_app(app if isinstance(app, str) else app.id)
        return self._onboarding.connect(
            found, page_token, page_id=page_id, name=name, redirect_to=redirect_to
        )

    def disconnect_page(self, page_id: str, *, unsubscribe: bool = True) -> None:
        """Unsubscribe the app from the Page and mark it disconnected.

        Raises:
            fmc.platform.UnknownAccountError: no such Page.
        """
        page = self.registry.page(page_id)
        if page is None:
            raise UnknownAccountError(f"no Page {page_id!r} is registered")
        app = self.registry.require_app(page.app_id)
        self._onboarding.disconnect(page, app, unsubscribe=unsubscribe)

    def check_pages(self, *, app_id: str | None = None) -> list[PageHealth]:
        """Check every connected Page's token (``debug_token``, else a cheap Graph call).

        A dead token (``is_valid`` false or a 190) marks the Page
        ``token_invalid``; a working one marks it active again.
        """
        return self._onboarding.check(list(self.registry.pages(app_id=app_id)))

    def broadcast(
        self,
        message: Message,
        purpose: Purpose,
        *,
        pages: Iterable[str] | None = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> PlatformBroadcastReport:
        """Run one journaled broadcast per Page, each under its own policy and rate limit.

        Args:
            message: What to send.
            purpose: Why; each Page's policy decides per subscriber.
            pages: The Page ids (every connected Page when ``None``); Pages not
                active (token invalid, disconnected) are reported, not sent to.
            idempotency_key: Makes each Page's broadcast resumable by running
                the same call again (the key is suffixed with the Page id).
            **options: Passed to :meth:`fmc.Channel.broadcast` (``progress``,
                ``concurrency``, ``stop`` …).

        Returns:
            Each Page's report and the Pages not sent to. A Page whose
            broadcast paused on a dead token (190) is marked ``token_invalid``.
        """
        return broadcast_pages(
            self, message, purpose, pages=pages, idempotency_key=idempotency_key, options=options
        )

    def plan_broadcast(
        self,
        purpose: Purpose,
        *,
        pages: Iterable[str] | None = None,
        now: datetime | None = None,
    ) -> PlatformBroadcastPlan:
        """A dry run of :meth:`broadcast`: what each Page's policy would do.

        Nothing is sent, nothing journaled, no Graph call made.

        Args:
            purpose: Why it would be sent; each Page's policy decides.
            pages: The Page ids (every connected Page when ``None``), picked
                as :meth:`broadcast` picks them.
            now: When it would run (the platform's clock when ``None``).

        Returns:
            Each Page's counts per policy rule, and the Pages a real run
            would not send to, with why.
        """
        return plan_pages(self, purpose, pages=pages, now=self._clock() if now is None else now)

    def set_app_webhook(
        self,
        app: App | str,
        callback_url: str,
        *,
        fields: Sequence[str] = DEFAULT_FIELDS,
        check_path: bool = True,
    ) -> AppSubscription:
        """Point an app's Messenger webhook at this platform (``POST /{app-id}/subscriptions``).

        Sends ``object=page``, the callback URL, the app's registered verify
        token and the fields, with the app access token; Meta then checks the
        URL with the ``hub.challenge`` handshake, so the platform must already
        answer there. Webhooks arrive only for fields subscribed at both the
        app and the Page level, so the default is the Pages' fields.

        Args:
            app: The registered app (or its id).
            callback_url: The public ``https://`` URL of the app's path,
                ``https://your-host/webhook/<app-id>``.
            fields: The webhook fields to subscribe.
            check_path: Refuse a URL whose path is not this platform's path
                for the app (turn off behind a proxy that rewrites paths).

        Returns:
            The subscription as Meta then lists it.

        Raises:
            fmc.platform.OnboardingError: not an ``https://`` URL, the path of
                another app, or no fields; the message says what to pass.
            fmc.platform.UnknownAccountError: the app is not registered.
            fmc.errors.GraphAPIError: Meta refused (a failed handshake, a bad
                app secret).
        """
        found = self.registry.require_app(app if isinstance(app, str) else app.id)
        return self._subscriptions.set(found, callback_url, fields=fields, check_path=check_path)

    def app_webhook(self, app: App | str) -> AppSubscription | None:
        """The app's Messenger webhook as Meta holds it (``GET /{app-id}/subscriptions``).

        Returns:
            Its callback URL, fields and whether it is active, or ``None`` when
            the app has no ``page`` subscription.

        Raises:
            fmc.platform.UnknownAccountError: the app is not registered.
            fmc.errors.GraphAPIError: Meta refused.
        """
        found = self.registry.require_app(app if isinstance(app, str) else app.id)
        return self._subscriptions.get(found)

    def delete_app_webhook(self, app: App | str) -> None:
        """Remove the app's Messenger webhook (``DELETE /{app-id}/subscriptions``).

        Raises:
            fmc.platform.UnknownAccountError: the app is not registered.
            fmc.errors.GraphAPIError: Meta refused.
        """
        found = self.registry.require_app(app if isinstance(app, str) else app.id)
        self._subscriptions.delete(found)

    def rotate_keys(self) -> int:
        """Re-seal every stored secret with the newest key; how many were re-sealed."""
        return self.registry.rotate_keys()


def _pooled_session(size: int = 64) -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
