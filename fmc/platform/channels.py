"""Each Page's :class:`~fmc.Channel`, built on first use and cached by Page id.

Every Page gets its own client (its token, its app's ``appsecret_proof``, its
own rate limiter) and its own policy (its granted permissions), while all
clients share one ``requests.Session`` and so one connection pool. A change
to a Page in the registry drops its channel; the next lookup builds it anew.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone

import requests

from fmc.channel import Channel
from fmc.models.page import Page
from fmc.platform.errors import UnknownAccountError
from fmc.platform.records import App, PageRecord, PageStatus
from fmc.platform.registry import Registry
from fmc.policy import MessagingPolicy, Permission
from fmc.store.base import SubscriberStore
from fmc.transport import Client, RetryPolicy
from fmc.webhook import Forwarder

__all__ = ["ChannelCache", "ClientFactory"]

#: Builds a Page's client: ``(page, session) -> Client``.
ClientFactory = Callable[[Page, requests.Session], Client]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ChannelCache:
    """Channels by Page id, built from the registry and dropped when it changes.

    Args:
        registry: Where the apps and Pages are.
        store: The subscriber store every channel shares.
        session: The pooled session every client shares.
        client_factory: Builds a Page's client; by default ``Client(page,
            session=session, rate_limit=rate_limit, base_url=..., retry=...)``.
        forwarder: Forwards deliveries to their ``redirect_to`` addresses.
        policy: Builds a Page's policy from its record; by default
            ``MessagingPolicy(permissions=record.permissions)``.
        clock: Aware UTC now, passed to each channel.
    """

    def __init__(
        self,
        registry: Registry,
        store: SubscriberStore,
        *,
        session: requests.Session,
        client_factory: ClientFactory,
        forwarder: Forwarder | None = None,
        policy: Callable[[PageRecord], MessagingPolicy] | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._registry = registry
        self._store = store
        self._session = session
        self._client_factory = client_factory
        self._forwarder = forwarder
        self._policy = policy or default_policy
        self._clock = clock
        self._lock = threading.Lock()
        self._channels: dict[str, Channel] = {}
        registry.on_change(self._drop)

    def __len__(self) -> int:
        return len(self._channels)

    def _drop(self, page_id: str | None) -> None:
        with self._lock:
            if page_id is None:
                dropped = list(self._channels.values())
                self._channels = {}
            else:
                gone = self._channels.pop(page_id, None)
                dropped = [] if gone is None else [gone]
        for channel in dropped:
            channel.client.close()

    def get(self, page_id: str) -> Channel:
        """The Page's channel (built on first use).

        Raises:
            UnknownAccountError: the Page is not registered, is disconnected,
                or its app is not registered.
        """
        channel = self._channels.get(page_id)
        if channel is not None:
            self._registry.page(page_id)  # lets another process's change drop it
            channel = self._channels.get(page_id)
            if channel is not None:
                return channel
        record = self._registry.page(page_id)
        if record is None or record.status is PageStatus.DISCONNECTED:
            raise UnknownAccountError(
                f"Page {page_id!r} is not connected: connect it with `fmc pages connect` "
                "or Platform.connect_page(...)"
            )
        app = self._registry.require_app(record.app_id)
        channel = self._build(app, record)
        with self._lock:
            # Another thread may have built it meanwhile: keep the first.
            channel = self._channels.setdefault(page_id, channel)
        return channel

    def _build(self, app: App, record: PageRecord) -> Channel:
        page = Page(record.id, record.access_token, app_secret=app.secret, name=record.name)
        return Channel(
            page,
            client=self._client_factory(page, self._session),
            store=self._store,
            policy=self._policy(record),
            verify_token=app.verify_token,
            forwarder=self._forwarder,
            clock=self._clock,
        )


def default_policy(record: PageRecord) -> MessagingPolicy:
    """The Page's policy from the permissions it was granted that the policy knows.

    A token's grants name many permissions (``pages_manage_metadata`` …) that do
    not change what may be sent; only those of :class:`fmc.policy.Permission` count.
    """
    known = {p.value for p in Permission}
    return MessagingPolicy(permissions={p for p in record.permissions if p in known})


def default_client_factory(
    *,
    base_url: str,
    api_version: str,
    rate_limit: float | None,
    retry: RetryPolicy | None,
) -> ClientFactory:
    """A factory of clients on the shared session, each with its own rate limiter."""

    def make(page: Page, session: requests.Session) -> Client:
        return Client(
            page,
            base_url=base_url,
            api_version=api_version,
            rate_limit=rate_limit,
            retry=retry,
            session=session,
        )

    return make
