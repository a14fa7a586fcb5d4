"""Acknowledge only what is safe: make a delivery durable before the handler answers 2xx.

:class:`Committer` is the part of :class:`~fmc.webhook.WebhookHandler` between
parsing and answering. With a store that has ``apply_delivery`` (every fmc
store), one transaction checks and marks the events' dedup keys, applies what
the new events change (the Channel registers subscribers and their status and
opt-in changes) and, when forwarding with ``persist_first`` into the same
store, keeps the outbox item: the dedup mark is never committed without them.
If that cannot commit within ``timeout`` the handler answers 503, so Meta
delivers again later; callbacks (user code) run only after the commit.

With a plain :class:`~fmc.webhook.dedup.DedupStore` (no ``apply_delivery``,
such as the in-memory default) there is nothing durable to commit but the
outbox item; a dedup store that fails is logged and the events count as new
(at least once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from fmc.errors import ConfigurationError
from fmc.store.delivery import NO_EFFECTS, DeliveryResult, DeliveryWrite, EventEffects
from fmc.webhook.dedup import DedupStore, dedup_key
from fmc.webhook.events import Event
from fmc.webhook.request import AMBIGUOUS, Query, query_value
from fmc.webhook.signature import SIGNATURE_HEADER, SIGNATURE_HEADER_SHA1

if TYPE_CHECKING:  # the forwarder (requests, tenacity) loads only when used
    from fmc.webhook.forward import Forwarder

__all__ = [
    "DEFAULT_COMMIT_TIMEOUT",
    "Committed",
    "Committer",
    "EffectsOf",
    "ForwardTarget",
    "forward_target",
]

#: Seconds a delivery's commit may take before the handler answers 503 (Meta
#: waits about 20 s for an answer; well below that, so Meta's retry is what happens).
DEFAULT_COMMIT_TIMEOUT = 5.0

#: What one event changes in the store (the Channel's registration rules).
EffectsOf = Callable[[Event], EventEffects]


class CommitFailedError(Exception):
    """The delivery could not be made durable; the handler answers 503."""


@attrs.frozen
class ForwardTarget:
    """Where and how a delivery is forwarded.

    Attributes:
        url: The ``redirect_to`` address.
        headers: The signature headers and content type to send.
        order_key: Deliveries with the same key arrive in order.
    """

    url: str
    headers: tuple[tuple[str, str], ...]
    order_key: str


def forward_target(
    query: Query,
    signature: str | None,
    sha1: str | None,
    content_type: str | None,
    events: list[Event],
    log: logging.Logger,
) -> ForwardTarget | None:
    """Where a delivery goes: the query's single ``redirect_to``, with its own headers.

    The signature headers and content type travel as received; the order key
    is the first event's sender (or Page) and the address. A ``redirect_to``
    given twice is ambiguous: nothing is forwarded, and that is logged.
    """
    url = query_value(query, "redirect_to")
    if url is None:
        return None
    if url is AMBIGUOUS:
        log.warning("delivery not forwarded: redirect_to is repeated")
        return None
    headers = []
    if signature is not None:
        headers.append((SIGNATURE_HEADER, signature))
    if sha1 is not None:
        headers.append((SIGNATURE_HEADER_SHA1, sha1))
    headers.append(("Content-Type", content_type or "application/json"))
    first = events[0] if events else None
    who = getattr(first, "sender_id", None) or getattr(first, "page_id", None) or ""
    return ForwardTarget(url, tuple(headers), f"{who}|{url}")


@attrs.frozen
class Committed:
    """What the commit decided.

    Attributes:
        fresh: The new events, in order (to dispatch).
        forward: Whether the delivery is forwarded (some event is new, or none is in it).
        outbox_id: The stored outbox item's id (``persist_first``), or ``None``.
    """

    fresh: list[Event]
    forward: bool
    outbox_id: int | None = None


class Committer:
    """Commits deliveries for a :class:`~fmc.webhook.WebhookHandler` (see the module docs).

    Args:
        dedup: The dedup store; used for the whole commit when it has ``apply_delivery``.
        effects: What one event changes (needs a store with ``apply_delivery``).
        forwarder: The forwarder, if any.
        window: How long a handled event counts as seen.
        timeout: Seconds the commit may take.
        logger: Where failures are logged.

    Raises:
        ConfigurationError: ``effects`` without a store that can apply them, or
            a timeout that is not positive.
    """

    def __init__(
        self,
        dedup: DedupStore,
        *,
        effects: EffectsOf | None,
        forwarder: Forwarder | None,
        window: timedelta,
        timeout: float,
        logger: logging.Logger,
    ) -> None:
        apply = getattr(dedup, "apply_delivery", None)
        if effects is not None and apply is None:
            raise ConfigurationError(
                "effects need a dedup store with apply_delivery (an fmc store), "
                "so that they commit with the dedup marks"
            )
        if not timeout > 0:
            raise ConfigurationError("commit_timeout must be positive seconds")
        self.dedup = dedup
        self._apply: Callable[..., DeliveryResult] | None = apply
        self._effects = effects
        self.forwarder = forwarder
        self.window = window
        self.timeout = timeout
        self._log = logger

    def commit(
        self, events: list[Event], body: bytes, target: ForwardTarget | None, now: datetime
    ) -> Committed:
        """Make the delivery durable.

        Raises:
            CommitFailedError: nothing safe to acknowledge; logged already.
        """
        item = None
        if target is not None and self.forwarder is not None and self.forwarder.persist_first:
            item = self.forwarder.outbox_item(
                target.url, body, target.headers, order_key=target.order_key, now=now
            )
            if item is None:
                target = None  # refused (and logged): not forwarded at all
        if self._apply is None:
            return self._commit_plain(events, item, target, now)
        outbox: Any = self.forwarder.outbox if self.forwarder is not None else None
        together = item is not None and outbox is self.dedup
        separate_id = None if together or item is None else self._put(item)
        keys = [dedup_key(event) for event in events]
        effects = self._effects
        write = DeliveryWrite(
            keys=keys,
            effects=[NO_EFFECTS if effects is None else effects(e) for e in events],
            now=now,
            window=self.window,
            outbox=item if together else None,
        )
        try:
            result = self._apply(write, timeout=self.timeout)
        except Exception as exc:
            self._log.error(
                "webhook delivery not acknowledged (503, Meta will deliver it again): "
                "the store could not commit it within %g s: %s",
                self.timeout,
                exc,
            )
            raise CommitFailedError from None
        fresh = [event for event, new in zip(events, result.fresh, strict=True) if new]
        forward = target is not None and (bool(fresh) or not events)
        outbox_id = result.outbox_id if together else separate_id
        if separate_id is not None and not forward:
            self._forget(separate_id)
        return Committed(fresh, forward, outbox_id)

    def _put(self, item: Any) -> int:
        assert self.forwarder is not None
        try:
            return self.forwarder.outbox.outbox_put(item)
        except Exception as exc:
            self._log.error(
                "webhook delivery not acknowledged (503, Meta will deliver it again): "
                "the forwarding outbox could not keep it: %s",
                exc,
            )
            raise CommitFailedError from None

    def _forget(self, item_id: int) -> None:
        assert self.forwarder is not None
        try:
            self.forwarder.outbox.outbox_ack(item_id)
        except Exception:
            self._log.exception("could not drop the outbox item of an already seen delivery")

    def _commit_plain(
        self, events: list[Event], item: Any, target: ForwardTarget | None, now: datetime
    ) -> Committed:
        outbox_id = None if item is None else self._put(item)
        fresh = self._fresh(events, now)
        forward = target is not None and (bool(fresh) or not events)
        if outbox_id is not None and not forward:
            self._forget(outbox_id)
        return Committed(fresh, forward, outbox_id)

    def _fresh(self, events: Sequence[Event], now: datetime) -> list[Event]:
        window = self.window
        check = self.dedup.dedup_check_and_mark
        fresh = []
        for event in events:
            key = dedup_key(event)
            if key is not None:
                try:
                    if check(key, now=now, window=window):
                        continue
                except Exception:
                    # At least once: an event the store cannot check is dispatched.
                    self._log.exception("dedup store failed; dispatching %s event", event.kind)
            fresh.append(event)
        return fresh
