"""The :class:`Platform`: many Facebook apps and Pages served by one deployment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from types import TracebackType

import requests

from fmc.channel import Channel
from fmc.platform.channels import ChannelCache, ClientFactory, default_client_factory
from fmc.platform.keys import KeyRing
from fmc.platform.records import App, PageRecord
from fmc.platform.registry import Registry
from fmc.platform.webhook import DEFAULT_PREFIX, PlatformWebhook
from fmc.policy import MessagingPolicy
from fmc.store.base import SubscriberStore
from fmc.store.registry import RegistryStore
from fmc.transport import RetryPolicy
from fmc.webhook import Forwarder

__all__ = ["Platform", "PlatformStore"]


class PlatformStore(SubscriberStore, RegistryStore):
    """A store that keeps subscribers and the registry (every fmc store does)."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Platform:
    """Many businesses, one deployment: apps, Pages, one webhook, per-Page channels.

    Args:
        store: Any fmc store (SQLite by default in the CLI, PostgreSQL, memory);
            it keeps the registry beside the subscribers.
        keys: Seals secrets at rest; ``None`` reads ``FMC_ENCRYPTION_KEYS``.
        base_url: Graph's root URL (a fake Graph API in tests).
        api_version: The pinned Graph version.
        rate_limit: Sends per second, per Page (each Page has its own limiter).
        retry: The clients' retry policy.
        forwarder: Forwards deliveries to ``redirect_to`` addresses.
        policy: Builds a Page's policy from its record (default: its permissions).
        session: The pooled session every Page's client shares (owned when ``None``).
        client_factory: Builds a Page's client (overrides the four options above).
        webhook_prefix: The path before each app id.
        refresh_every: Seconds between checks for other processes' registry changes.
        clock: Aware UTC now.

    Raises:
        fmc.platform.EncryptionKeyError: no key given and none in the environment.

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
        keys: KeyRing | None = None,
        base_url: str = "https://graph.facebook.com",
        api_version: str = "v25.0",
        rate_limit: float | None = None,
        retry: RetryPolicy | None = None,
        forwarder: Forwarder | None = None,
        policy: Callable[[PageRecord], MessagingPolicy] | None = None,
        session: requests.Session | None = None,
        client_factory: ClientFactory | None = None,
        webhook_prefix: str = DEFAULT_PREFIX,
        refresh_every: float = 2.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.keys = keys if keys is not None else KeyRing.from_env()
        self.base_url = base_url
        self.api_version = api_version
        if not isinstance(store, RegistryStore):
            raise TypeError(f"{type(store).__name__} does not keep a registry")
        self.registry = Registry(store, self.keys, refresh_every=refresh_every, clock=clock)
        self._owns_session = session is None
        self.session = session if session is not None else _pooled_session()
        factory = client_factory or default_client_factory(
            base_url=base_url, api_version=api_version, rate_limit=rate_limit, retry=retry
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
        self._clock = clock

    def __repr__(self) -> str:
        return f"Platform(store={type(self.store).__name__}, channels={len(self._channels)})"

    def __enter__(self) -> Platform:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the shared session if the platform made it."""
        if self._owns_session:
            self.session.close()

    def add_app(self, app: App) -> None:
        """Register an app (or replace its secrets, verify token and name)."""
        self.registry.add_app(app)

    def channel(self, page_id: str) -> Channel:
        """That Page's channel: its policy, its rate limit, the shared connection pool.

        Raises:
            fmc.platform.UnknownAccountError: the Page is not connected.
        """
        return self._channels.get(page_id)

    def rotate_keys(self) -> int:
        """Re-seal every stored secret with the newest key; how many were re-sealed."""
        return self.registry.rotate_keys()


def _pooled_session(size: int = 64) -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
