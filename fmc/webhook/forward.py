"""Forwarding webhook deliveries to ``redirect_to``, byte for byte, without delaying Facebook.

:class:`Forwarder` takes a delivery from the handler (:meth:`Forwarder.submit`
costs a queue put) and a bounded pool of background workers posts it: the raw
body, the original signature headers and content type, no redirects followed,
a timeout, and at most a small part of the answer read. A delivery that fails
with a connection error, a timeout, a 5xx, 408 or 429 is retried (tenacity);
one that still fails is kept in the :class:`~fmc.webhook.outbox.OutboxStore` and retried later by
the drain loop, in order per ``order_key``: while a key has deliveries waiting
in the outbox, newer ones for it queue behind them. Refused addresses and
permanent failures (other 4xx, redirects, deliveries past ``give_up_after``)
are logged and dropped: nothing is lost silently.

The threads (``workers`` senders and one outbox drain, all daemon threads
named ``fmc-forward-*``) start when the forwarder is started: :meth:`Forwarder.start`
or ``with Forwarder(...) as forwarder:``. The pieces live beside this module:
the pinned-DNS sender in :mod:`fmc.webhook.forward_http`, the per-key queues
and ordering in :mod:`fmc.webhook.forward_queue`, the outbox drain in
:mod:`fmc.webhook.forward_drain`.

Delivery is at least once: a read timeout after the receiver got the body
looks like a failure and is retried, so receivers should deduplicate by ``mid``.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone

import requests

from fmc.errors import ConfigurationError, ForwardingRefused
from fmc.models.outbox import OutboxItem
from fmc.webhook.addresses import Resolver, Target, strip_url_to_path, system_resolver
from fmc.webhook.forward_drain import OutboxDrain
from fmc.webhook.forward_http import PinnedSender, normalise_hosts
from fmc.webhook.forward_queue import LEASE, WAITING_KEYS_LIMIT, Job, Lanes
from fmc.webhook.forward_retry import ForwardRetry
from fmc.webhook.forward_worker import Worker
from fmc.webhook.outbox import MemoryOutbox, OutboxStore

__all__ = ["ForwardRetry", "Forwarder", "MemoryOutbox", "OutboxStore"]

_LOG = logging.getLogger("fmc.webhook.forward")
#: How far ahead the outbox is read to learn every key still waiting (all of them).
_EVERYTHING_AHEAD = timedelta(days=36500)
_NOT_STARTED = (
    "Forwarder.submit() on a forwarder that was not started: its threads start now. "
    "Starting them on first submit is deprecated and ends in the next release; "
    "call forwarder.start() (or use 'with Forwarder(...) as forwarder:') first"
)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Forwarder:
    """Forwards webhook deliveries to their ``redirect_to`` address in the background.

    Args:
        allow_hosts: Hosts deliveries may go to: exact names or addresses, or
            ``*.example.com`` for any subdomain. Empty refuses everything.
        allow_private: Also allow ``http`` and loopback, private or link-local
            addresses for allowlisted hosts (local development).
        outbox: Where undeliverable deliveries wait (default in memory).
        session: A ``requests.Session`` to use; by default the forwarder owns one
            that pins each connection to the checked address and ignores proxy
            environment variables. An injected session is used as is (the
            address is checked just before each request, but not pinned).
        timeout: ``(connect, read)`` seconds per request.
        verify: TLS verification: True (the default CA bundle) or the path of a CA
            bundle, for receivers behind a private CA. The certificate must match
            the URL's host name even though the connection goes to the checked address.
        max_body: Larger deliveries are not forwarded (logged).
        max_response_bytes: The most of a receiver's answer that is read.
        workers: Background worker threads.
        queue_size: Deliveries waiting per worker; beyond that they go to the outbox.
        retry: Retry and outbox timing.
        resolver: Resolves host names (injectable for tests).
        clock: Returns the current aware UTC time.
        sleep: Sleeps between immediate retries (injectable for tests).
        drain_interval: Seconds between outbox drains in the background.
        drain_batch: Outbox items fetched per drain pass.
        persist_first: Every delivery is in the outbox before it is forwarded, so
            a crash between the 200 and the forward loses nothing (one store
            write per delivery). The :class:`~fmc.webhook.WebhookHandler` writes
            it before answering, in the delivery's own transaction when the
            outbox is its store (see :meth:`outbox_item`); a delivery given to
            :meth:`submit` without an ``item_id`` is written by a worker thread
            before its first attempt, never by the caller's thread.
        logger: Where refusals, give-ups and retries are logged.

    Start it before the first delivery: ``forwarder.start()`` (and
    ``forwarder.close()`` at shutdown), or ``with Forwarder(...) as forwarder:``.
    Constructing one starts nothing; a forwarder that was never started still
    starts its threads on the first :meth:`submit`, with a
    :class:`DeprecationWarning` (that fallback ends in the next release).

    Raises:
        ConfigurationError: a bad allowlist entry or sizes.
    """

    def __init__(
        self,
        allow_hosts: Iterable[str] = (),
        *,
        allow_private: bool = False,
        outbox: OutboxStore | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 10.0),
        verify: bool | str = True,
        max_body: int = 4 * 1024 * 1024,
        max_response_bytes: int = 64 * 1024,
        workers: int = 2,
        queue_size: int = 1000,
        retry: ForwardRetry | None = None,
        resolver: Resolver = system_resolver,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
        drain_interval: float = 5.0,
        drain_batch: int = 100,
        persist_first: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        if workers < 1 or queue_size < 1 or drain_batch < 1 or max_body < 1:
            raise ConfigurationError(
                "workers, queue_size, drain_batch and max_body must be positive"
            )
        if verify is False:
            raise ConfigurationError("TLS verification cannot be turned off for forwarding")
        self.allow_hosts = normalise_hosts(allow_hosts)
        self.allow_private = allow_private
        self.outbox: OutboxStore = MemoryOutbox() if outbox is None else outbox
        self.timeout = timeout
        self.verify = verify
        self.max_body = max_body
        self.max_response_bytes = max_response_bytes
        self.retry = ForwardRetry() if retry is None else retry
        self.persist_first = persist_first
        self._clock = clock
        self._sleep = sleep
        self._drain_interval = drain_interval
        self._log = _LOG if logger is None else logger
        self._sender = PinnedSender(
            allow_hosts=self.allow_hosts,
            allow_private=allow_private,
            resolver=resolver,
            session=session,
            timeout=timeout,
            verify=verify,
            max_response_bytes=max_response_bytes,
            pool_size=max(workers, 4),
        )
        self._lanes = Lanes(workers, queue_size)
        self._drain = OutboxDrain(
            outbox=self.outbox,
            sender=self._sender,
            lanes=self._lanes,
            retry=self.retry,
            clock=clock,
            batch=drain_batch,
            log=self._log,
        )
        self._worker = Worker(
            outbox=self.outbox,
            sender=self._sender,
            lanes=self._lanes,
            retry=self.retry,
            clock=clock,
            sleep=sleep,
            log=self._log,
        )
        self._threads: list[threading.Thread] = []
        self._state = threading.Lock()
        self._started = False
        self._closing = False
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._ready = threading.Event()

    def __repr__(self) -> str:
        return (
            f"Forwarder(allow_hosts={list(self.allow_hosts)!r}, allow_private={self.allow_private},"
            f" workers={len(self._lanes.queues)})"
        )

    def __enter__(self) -> Forwarder:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- checks -------------------------------------------------------------

    def check(self, url: object) -> Target:
        """Check a URL without resolving its host.

        Args:
            url: A ``redirect_to`` value.

        Returns:
            The checked target.

        Raises:
            ForwardingRefused: the URL is not allowed.
        """
        return self._sender.check(url)

    def validate(self, url: object) -> None:
        """Check a URL exactly as a forward would, resolving its host.

        Args:
            url: A ``redirect_to`` value.

        Raises:
            ForwardingRefused: the URL is not allowed, or its host does not resolve;
                ``reason`` says why.
        """
        self._sender.resolve(self.check(url), url, transient=ForwardingRefused)

    # -- lifecycle ----------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether the threads were started (and the forwarder not closed since)."""
        return self._started and not self._closing

    def start(self) -> None:
        """Start the worker and drain threads; call it once before the first delivery.

        Reads which order keys already wait in the outbox (after a restart)
        before returning. Starting a started forwarder does nothing.
        """
        self._start(learn_now=True)

    def _start(self, *, learn_now: bool) -> None:
        with self._state:
            if self._started or self._closing:
                return
            self._started = True
        if learn_now:
            try:
                self._learn_waiting_keys()
            finally:
                self._ready.set()
        for index, work in enumerate(self._lanes.queues):
            thread = threading.Thread(
                target=self._worker.run,
                args=(work, self._ready, self._stop),
                name=f"fmc-forward-{index}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        drainer = threading.Thread(
            target=self._drain_loop, args=(not learn_now,), name="fmc-forward-drain", daemon=True
        )
        drainer.start()
        self._threads.append(drainer)

    def _learn_waiting_keys(self) -> None:
        """Keys with deliveries already in a durable outbox keep their order after a restart."""
        self._lanes.learn(
            self.outbox.outbox_due(self._clock() + _EVERYTHING_AHEAD, WAITING_KEYS_LIMIT)
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every submitted delivery was forwarded or put in the outbox.

        Args:
            timeout: Seconds to wait at most (``None``: no limit).

        Returns:
            True when everything submitted has been handled.
        """
        return self._lanes.wait_idle(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the threads; deliveries not yet attempted go to the outbox.

        Args:
            timeout: Seconds to wait for each thread.
        """
        with self._state:
            if self._closing:
                return
            self._closing = True
        self._stop.set()
        self._kick.set()
        self._ready.set()
        self._lanes.stop()
        for thread in self._threads:
            thread.join(timeout)
        self._sender.close()

    # -- intake -------------------------------------------------------------

    def outbox_item(
        self,
        url: str,
        body: bytes,
        headers: Sequence[tuple[str, str]],
        *,
        order_key: str,
        now: datetime | None = None,
    ) -> OutboxItem | None:
        """The outbox item that makes a delivery durable before it is acknowledged.

        The item is leased (hidden from the drain) for a few minutes, so the
        drain never sends it while a worker is sending it; after a crash it
        becomes due when the lease ends. Store it, then hand its id to
        :meth:`submit`.

        Args:
            url: The ``redirect_to`` value.
            body: The raw body as received.
            headers: The headers to send.
            order_key: Deliveries with the same key arrive in order.
            now: The receiving time (default: the forwarder's clock).

        Returns:
            The item, or ``None`` (logged) when the delivery will not be
            forwarded: the body is over ``max_body`` or the URL is refused.
        """
        if self._refused(url, body):
            return None
        created = self._clock() if now is None else now
        job = Job(url, bytes(body), tuple(headers), order_key, created)
        return job.item(attempts=0, error=None, due=created + LEASE)

    def _refused(self, url: str, body: bytes) -> bool:
        if len(body) > self.max_body:
            self._log.error(
                "forward to %s refused: body of %d bytes is over max_body",
                strip_url_to_path(url),
                len(body),
            )
            return True
        try:
            self.check(url)
        except ForwardingRefused as exc:
            self._log.warning("forward to %s refused: %s", strip_url_to_path(url), exc.reason)
            return True
        return False

    def submit(
        self,
        url: str,
        body: bytes,
        headers: Sequence[tuple[str, str]],
        *,
        order_key: str,
        item_id: int | None = None,
    ) -> None:
        """Queue a delivery for forwarding; returns at once, never raises, never waits on the store.

        On a forwarder that was never started, this starts its threads (and
        warns: see the class description).

        Args:
            url: The ``redirect_to`` value (checked in the background).
            body: The raw body as received.
            headers: The headers to send (signature headers and content type).
            order_key: Deliveries with the same key arrive in order.
            item_id: The id of its :meth:`outbox_item`, already stored; it is
                acknowledged once delivered.
        """
        if not self._started:
            warnings.warn(_NOT_STARTED, DeprecationWarning, stacklevel=2)
        try:
            self._submit(url, body, tuple(headers), order_key, item_id)
        except Exception:
            self._log.exception("forward to %s could not be queued", strip_url_to_path(url))

    def _submit(
        self,
        url: str,
        body: bytes,
        headers: tuple[tuple[str, str], ...],
        key: str,
        item_id: int | None,
    ) -> None:
        if item_id is None and len(body) > self.max_body:
            self._refused(url, body)
            return
        job = Job(url, body, headers, key, self._clock(), item_id, self.persist_first)
        if not self._started:
            if item_id is not None:
                # Claimed first, so the drain thread does not mistake it for an
                # item left by an earlier process when it learns the waiting keys.
                self._lanes.claim(item_id)
            # The drain thread learns the waiting keys, so submit never waits on the store.
            self._start(learn_now=False)
        if self._closing:
            if item_id is None:
                # Shutting down: the caller's thread writes it, there is no worker left.
                self.outbox.outbox_put(job.item(attempts=0, error=None))
            self._log.warning(
                "forwarder closed; delivery for %s kept in the outbox", strip_url_to_path(url)
            )
            return
        if self._lanes.put(job):
            return
        # The drain thread writes it to the outbox; its key waits behind it.
        self._kick.set()
        self._log.warning(
            "forward queue full; delivery for %s kept in the outbox", strip_url_to_path(url)
        )

    # -- outbox -------------------------------------------------------------

    def _drain_loop(self, learn: bool) -> None:
        if learn:
            try:
                self._learn_waiting_keys()
            except Exception:
                self._log.exception("could not read the outbox's waiting order keys")
            finally:
                self._ready.set()
        next_drain = time.monotonic() + self._drain_interval
        while True:
            self._kick.wait(max(next_drain - time.monotonic(), 0.0))
            self._kick.clear()
            self._worker.park_overflow()
            if self._stop.is_set():
                return
            if time.monotonic() < next_drain:
                continue  # woken to park the overflow only
            try:
                self.drain()
            except Exception:
                self._log.exception("outbox drain failed")
            next_drain = time.monotonic() + self._drain_interval

    def drain(self) -> int:
        """Retry the outbox items that are due, in order per key, until none is left due.

        Runs in the background every ``drain_interval`` seconds; call it directly
        in tests or from a scheduler.

        Returns:
            How many items were delivered.
        """
        return self._drain.drain()
