"""Each Page's :class:`~fmc.Channel`, built on first use and cached by Page id.

Every Page gets its own client (its token, its app's ``appsecret_proof``, its
own rate limiter) and its own policy (its granted permissions), while all
clients share one ``requests.Session`` and so one connection pool. A change
to a Page in the registry drops its channel; the next lookup builds it anew.

No webhook announces a dead Page token: Graph's code 190 on any call is the
signal. The default clients watch every answer (:class:`TokenWatch`), so a 190
on a reply, a ``notify`` or a broadcast send marks the Page ``token_invalid``
at once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import requests

from fmc.channel import Channel
from fmc.models.page import Page
from fmc.platform.errors import UnknownAccountError
from fmc.platform.records import App, PageRecord, PageStatus
from fmc.platform.registry import Registry
from fmc.policy import MessagingPolicy, Permission
from fmc.store.base import SubscriberStore
from fmc.transport import Client, RetryPolicy, appsecret_proof
from fmc.transport.core import GraphRequest, RawAnswer, Transport
from fmc.transport.http import RequestsTransport
from fmc.transport.redact import Redactor
from fmc.webhook import Forwarder

__all__ = ["ChannelCache", "ClientFactory", "DeadToken", "TokenWatch"]

#: Builds a Page's client: ``(page, session) -> Client``.
ClientFactory = Callable[[Page, requests.Session], Client]

#: Told that Graph answered 190 for a Page's token: ``(page_id, reason)``.
DeadToken = Callable[[str, str], None]

#: Graph's code for an invalid, expired or revoked access token.
DEAD_TOKEN_CODE = 190

# The default client's (connect, read) timeouts.
_TIMEOUT = (3.05, 20.0)


def _error_code(content: bytes) -> Any:
    try:
        error = json.loads(content).get("error")
    except (ValueError, AttributeError):
        return None
    return error.get("code") if isinstance(error, dict) else None


class TokenWatch:
    """A transport that tells ``on_dead`` when Graph answers 190 for its Page.

    It wraps the transport that moves the bytes and changes nothing in what
    the client reads; the reason it reports names the call, never the token.

    Args:
        inner: The transport that moves the bytes.
        page_id: The Page whose token the calls carry.
        on_dead: Called with ``(page_id, reason)`` on each 190.
    """

    def __init__(self, inner: Transport, page_id: str, on_dead: DeadToken) -> None:
        self._inner = inner
        self.page_id = page_id
        self._on_dead = on_dead

    def __repr__(self) -> str:
        return f"TokenWatch(page_id={self.page_id!r}, inner={self._inner!r})"

    @property
    def inner(self) -> Transport:
        """The transport that moves the bytes."""
        return self._inner

    def send(self, request: GraphRequest) -> RawAnswer:
        """Send through the inner transport; report a 190 answer before returning it."""
        answer = self._inner.send(request)
        if (
            answer.status >= 400
            and b"190" in answer.content
            and _error_code(answer.content) == DEAD_TOKEN_CODE
        ):
            self._on_dead(self.page_id, f"Graph answered 190 to {request.what}")
        return answer

    def close(self) -> None:
        """Close the inner transport."""
        self._inner.close()


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
    on_dead_token: DeadToken | None = None,
) -> ClientFactory:
    """A factory of clients on the shared session, each with its own rate limiter.

    With ``on_dead_token``, each client's transport is a :class:`TokenWatch`.
    """

    def make(page: Page, session: requests.Session) -> Client:
        transport: Transport | None = None
        if on_dead_token is not None:
            secret = page.app_secret
            proof = appsecret_proof(page.access_token, secret) if secret else None
            inner = RequestsTransport(
                base_url=base_url,
                timeout=_TIMEOUT,
                session=session,
                redactor=Redactor((page.access_token, secret, proof)),
            )
            transport = TokenWatch(inner, page.id, on_dead_token)
        return Client(
            page,
            base_url=base_url,
            api_version=api_version,
            rate_limit=rate_limit,
            retry=retry,
            session=session,
            transport=transport,
        )

    return make
