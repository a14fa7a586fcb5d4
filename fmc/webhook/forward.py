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

Delivery is at least once: a read timeout after the receiver got the body
looks like a failure and is retried, so receivers should deduplicate by ``mid``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import requests
import tenacity

from fmc.errors import ConfigurationError, ForwardingRefused
from fmc.models.outbox import OutboxItem
from fmc.webhook.addresses import (
    Resolver,
    Target,
    check_url,
    redact_url,
    resolve,
    system_resolver,
)
from fmc.webhook.forward_http import PermanentError, PinnedAdapter, RetryableError, post_once
from fmc.webhook.forward_retry import ForwardRetry
from fmc.webhook.outbox import MemoryOutbox, OutboxStore

__all__ = ["ForwardRetry", "Forwarder", "MemoryOutbox", "OutboxStore"]

_LOG = logging.getLogger("fmc.webhook.forward")
_UNKNOWN = -1
#: A delivery stored before its first attempt (persist_first) is hidden from the
#: drain this long, so the drain never sends it while a worker is sending it; after
#: a crash it becomes due when the lease ends.
_LEASE = timedelta(minutes=5)
_STOP = object()


@attrs.frozen
class _Job:
    url: str
    body: bytes = attrs.field(repr=lambda body: f"<{len(body)} bytes>")
    headers: tuple[tuple[str, str], ...]
    order_key: str
    created_at: datetime
    item_id: int | None = None
    persist: bool = False


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _normalise_hosts(allow_hosts: Iterable[str]) -> tuple[str, ...]:
    if isinstance(allow_hosts, str):
        allow_hosts = [allow_hosts]
    hosts = []
    for host in allow_hosts:
        pattern = host.strip().lower().rstrip(".")
        bare = pattern[2:] if pattern.startswith("*.") else pattern
        if not bare or "*" in bare or "/" in bare or "@" in bare:
            raise ConfigurationError(f"allow_hosts entry {host!r} is not a host or *.domain")
        hosts.append(pattern.strip("[]"))
    return tuple(hosts)


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
        self.allow_hosts = _normalise_hosts(allow_hosts)
        self.allow_private = allow_private
        self.outbox: OutboxStore = MemoryOutbox() if outbox is None else outbox
        self.timeout = timeout
        if verify is False:
            raise ConfigurationError("TLS verification cannot be turned off for forwarding")
        self.verify = verify
        self.max_body = max_body
        self.max_response_bytes = max_response_bytes
        self.retry = ForwardRetry() if retry is None else retry
        self.persist_first = persist_first
        self._resolver = resolver
        self._clock = clock
        self._sleep = sleep
        self._drain_interval = drain_interval
        self._drain_batch = drain_batch
        self._log = _LOG if logger is None else logger
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            session.trust_env = False
            adapter = PinnedAdapter(pool_connections=4, pool_maxsize=max(workers, 4))
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self._session = session
        self._queues: list[queue.Queue[Any]] = [queue.Queue(queue_size) for _ in range(workers)]
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._unfinished = 0
        self._pending: dict[str, int] = {}
        self._inflight: set[int] = set()
        self._route_all = False
        self._started = False
        self._closing = False
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._ready = threading.Event()
        self._overflow: deque[_Job] = deque()
        self._drain_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"Forwarder(allow_hosts={list(self.allow_hosts)!r}, allow_private={self.allow_private},"
            f" workers={len(self._queues)})"
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
        try:
            return check_url(url, allow_hosts=self.allow_hosts, allow_private=self.allow_private)
        except ForwardingRefused as exc:
            raise ForwardingRefused(exc.reason, url=redact_url(url)) from None

    def validate(self, url: object) -> None:
        """Check a URL exactly as a forward would, resolving its host.

        Args:
            url: A ``redirect_to`` value.

        Raises:
            ForwardingRefused: the URL is not allowed, or its host does not resolve;
                ``reason`` says why.
        """
        self._resolve(self.check(url), url, transient=ForwardingRefused)

    def _resolve(self, target: Target, url: object, *, transient: type[Exception]) -> str:
        try:
            return resolve(target, resolver=self._resolver, allow_private=self.allow_private)
        except ForwardingRefused as exc:
            raise ForwardingRefused(exc.reason, url=redact_url(url)) from None
        except (OSError, UnicodeError) as exc:
            reason = f"host {target.host!r} does not resolve ({type(exc).__name__})"
            if transient is ForwardingRefused:
                raise ForwardingRefused(reason, url=redact_url(url)) from None
            raise transient(reason) from None

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        """Start the worker and drain threads (done on the first :meth:`submit` anyway).

        Reads which order keys already wait in the outbox (after a restart) before
        returning; when :meth:`submit` starts the threads, the drain thread reads
        them instead and the workers wait for it, so ``submit`` never waits on the store.
        """
        self._start(learn_now=True)

    def _start(self, *, learn_now: bool) -> None:
        with self._lock:
            if self._started or self._closing:
                return
            self._started = True
        if learn_now:
            try:
                self._learn_waiting_keys()
            finally:
                self._ready.set()
        for index, work in enumerate(self._queues):
            thread = threading.Thread(
                target=self._work, args=(work,), name=f"fmc-forward-{index}", daemon=True
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
        horizon = self._clock() + timedelta(days=36500)
        heads = self.outbox.outbox_due(horizon, 10_000)
        with self._lock:
            for item in heads:
                if item.id not in self._inflight:
                    self._pending.setdefault(item.order_key, _UNKNOWN)
            self._route_all = len(heads) >= 10_000

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every submitted delivery was forwarded or put in the outbox.

        Args:
            timeout: Seconds to wait at most (``None``: no limit).

        Returns:
            True when everything submitted has been handled.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the threads; deliveries not yet attempted go to the outbox.

        Args:
            timeout: Seconds to wait for each thread.
        """
        with self._lock:
            if self._closing:
                return
            self._closing = True
        self._stop.set()
        self._kick.set()
        self._ready.set()
        for work in self._queues:
            work.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)
        if self._owns_session:
            self._session.close()

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
        job = _Job(url, bytes(body), tuple(headers), order_key, created)
        return attrs.evolve(
            self._item(job, attempts=0, error=None), next_attempt_at=created + _LEASE
        )

    def _refused(self, url: str, body: bytes) -> bool:
        if len(body) > self.max_body:
            self._log.error(
                "forward to %s refused: body of %d bytes is over max_body",
                redact_url(url),
                len(body),
            )
            return True
        try:
            self.check(url)
        except ForwardingRefused as exc:
            self._log.warning("forward to %s refused: %s", redact_url(url), exc.reason)
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

        Args:
            url: The ``redirect_to`` value (checked in the background).
            body: The raw body as received.
            headers: The headers to send (signature headers and content type).
            order_key: Deliveries with the same key arrive in order.
            item_id: The id of its :meth:`outbox_item`, already stored; it is
                acknowledged once delivered.
        """
        try:
            self._submit(url, body, tuple(headers), order_key, item_id)
        except Exception:
            self._log.exception("forward to %s could not be queued", redact_url(url))

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
        job = _Job(url, body, headers, key, self._clock(), item_id, self.persist_first)
        if not self._started:
            if item_id is not None:
                # Registered first, so the drain thread does not mistake it for an
                # item left by an earlier process when it learns the waiting keys.
                with self._lock:
                    self._inflight.add(item_id)
            self._start(learn_now=False)
        if self._closing:
            if item_id is None:
                # Shutting down: the caller's thread writes it, there is no worker left.
                self.outbox.outbox_put(self._item(job, attempts=0, error=None))
            self._log.warning(
                "forwarder closed; delivery for %s kept in the outbox", redact_url(url)
            )
            return
        with self._lock:
            if job.item_id is not None:
                self._inflight.add(job.item_id)
            self._unfinished += 1
            try:
                self._queues[hash(key) % len(self._queues)].put_nowait(job)
                return
            except queue.Full:
                # The drain thread writes it to the outbox; its key waits behind it.
                self._overflow.append(job)
                self._hold(key)
        self._kick.set()
        self._log.warning("forward queue full; delivery for %s kept in the outbox", redact_url(url))

    def _item(self, job: _Job, *, attempts: int, error: str | None) -> OutboxItem:
        return OutboxItem(
            url=job.url,
            body=job.body,
            headers=job.headers,
            order_key=job.order_key,
            created_at=job.created_at,
            attempts=attempts,
            next_attempt_at=job.created_at,
            last_error=error,
        )

    def _done(self) -> None:
        with self._idle:
            self._unfinished -= 1
            if self._unfinished == 0:
                self._idle.notify_all()

    def _hold(self, key: str) -> None:
        """Make later deliveries of ``key`` wait behind one in the outbox (lock held)."""
        count = self._pending.get(key, 0)
        if count != _UNKNOWN:
            self._pending[key] = count + 1

    def _park(
        self,
        job: _Job,
        *,
        attempts: int,
        error: str | None,
        wait: timedelta,
        held: bool = False,
    ) -> None:
        """Keep a job in the outbox and hold its key until the outbox delivers it.

        The key is held first, under the lock; the store is written after, outside it.
        """
        next_at = self._clock() + wait
        with self._lock:
            if job.item_id is not None:
                self._inflight.discard(job.item_id)
            if not held:
                self._hold(job.order_key)
        if job.item_id is None:
            item = attrs.evolve(
                self._item(job, attempts=attempts, error=error), next_attempt_at=next_at
            )
            self.outbox.outbox_put(item)
        else:
            self.outbox.outbox_defer(
                job.item_id,
                next_attempt_at=next_at,
                attempts=attempts,
                last_error=error or "waiting behind an earlier delivery",
            )

    def _park_overflow(self) -> None:
        """Write the deliveries the full queues could not take to the outbox, in order."""
        while True:
            with self._lock:
                if not self._overflow:
                    return
                job = self._overflow.popleft()
            try:
                self._park(job, attempts=0, error="queue full", wait=timedelta(0), held=True)
            except Exception:
                self._log.exception(
                    "forward to %s could not be kept in the outbox", redact_url(job.url)
                )
            finally:
                self._done()

    def _settle(self, job: _Job) -> None:
        """A job is finished for good (delivered, refused or abandoned)."""
        if job.item_id is not None:
            self.outbox.outbox_ack(job.item_id)
            with self._lock:
                self._inflight.discard(job.item_id)

    # -- workers ------------------------------------------------------------

    def _work(self, work: queue.Queue[Any]) -> None:
        self._ready.wait()
        while True:
            job = work.get()
            if job is _STOP:
                return
            try:
                if self._closing:
                    self._park(job, attempts=0, error=None, wait=timedelta(0))
                else:
                    self._process(self._persisted(job))
            except Exception:
                self._log.exception("forward to %s failed unexpectedly", redact_url(job.url))
            finally:
                self._done()

    def _persisted(self, job: _Job) -> _Job:
        """With ``persist_first``, a job not stored yet is stored before its first attempt."""
        if not job.persist or job.item_id is not None:
            return job
        item = attrs.evolve(
            self._item(job, attempts=0, error=None), next_attempt_at=job.created_at + _LEASE
        )
        item_id = self.outbox.outbox_put(item)
        with self._lock:
            self._inflight.add(item_id)
        return attrs.evolve(job, item_id=item_id)

    def _process(self, job: _Job) -> None:
        with self._lock:
            blocked = self._route_all or job.order_key in self._pending
        if blocked:
            self._park(job, attempts=0, error=None, wait=timedelta(0))
            return
        url = redact_url(job.url)
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.attempts),
            wait=tenacity.wait_exponential(
                multiplier=self.retry.wait_initial, max=self.retry.wait_max
            )
            + tenacity.wait_random(0, self.retry.wait_jitter),
            retry=tenacity.retry_if_exception_type(RetryableError),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: self._log.info(
                "forward to %s failed (attempt %d), retrying: %s",
                url,
                state.attempt_number,
                state.outcome.exception() if state.outcome else None,
            ),
        )
        try:
            retrying(self._send, job.url, job.body, job.headers)
        except ForwardingRefused as exc:
            self._log.warning("forward to %s refused: %s", url, exc.reason)
            self._settle(job)
        except PermanentError as exc:
            self._log.error("forward to %s given up: %s", url, exc)
            self._settle(job)
        except RetryableError as exc:
            self._log.warning(
                "forward to %s failed %d times, kept in the outbox: %s",
                url,
                self.retry.attempts,
                exc,
            )
            attempts = self.retry.attempts
            self._park(
                job, attempts=attempts, error=str(exc), wait=self.retry.outbox_wait(attempts)
            )
        else:
            self._settle(job)

    def _send(self, url: str, body: bytes, headers: tuple[tuple[str, str], ...]) -> int:
        """POST once; return the status, or raise a retryable / permanent / refused error."""
        target = self.check(url)
        address = self._resolve(target, url, transient=RetryableError)
        return post_once(
            self._session,
            target,
            address,
            body,
            headers,
            timeout=self.timeout,
            verify=self.verify,
            max_response_bytes=self.max_response_bytes,
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
            self._park_overflow()
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
        delivered = 0
        with self._drain_lock:
            while True:
                progressed = False
                for item in self.outbox.outbox_due(self._clock(), self._drain_batch):
                    with self._lock:
                        if item.id in self._inflight:
                            continue
                    outcome = self._retry_item(item)
                    delivered += outcome == "delivered"
                    progressed = progressed or outcome != "deferred"
                if not progressed:
                    break
            if self.outbox.outbox_count() == 0:
                with self._lock:
                    self._pending.clear()
                    self._route_all = False
        return delivered

    def _retry_item(self, item: OutboxItem) -> str:
        assert item.id is not None
        url = redact_url(item.url)
        try:
            self._send(item.url, item.body, item.headers)
        except ForwardingRefused as exc:
            self._log.warning("outbox forward to %s refused, dropped: %s", url, exc.reason)
        except PermanentError as exc:
            self._log.error("outbox forward to %s given up: %s", url, exc)
        except RetryableError as exc:
            attempts = item.attempts + 1
            now = self._clock()
            if now - item.created_at < self.retry.give_up_after:
                self.outbox.outbox_defer(
                    item.id,
                    next_attempt_at=now + self.retry.outbox_wait(attempts),
                    attempts=attempts,
                    last_error=str(exc),
                )
                return "deferred"
            self._log.error(
                "outbox forward to %s given up after %d attempts over %s: %s",
                url,
                attempts,
                now - item.created_at,
                exc,
            )
        else:
            self._release(item)
            return "delivered"
        self._release(item)
        return "dropped"

    def _release(self, item: OutboxItem) -> None:
        assert item.id is not None
        self.outbox.outbox_ack(item.id)
        with self._lock:
            count = self._pending.get(item.order_key)
            if count is not None and count != _UNKNOWN:
                if count <= 1:
                    del self._pending[item.order_key]
                else:
                    self._pending[item.order_key] = count - 1
