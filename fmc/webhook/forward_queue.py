"""The forwarder's per-key queues and ordering: which worker takes a delivery, which must wait.

Deliveries with the same ``order_key`` go to the same worker queue, so they
leave in the order they came. While a key has deliveries waiting in the
outbox, newer deliveries of that key are parked behind them (:meth:`Lanes.blocked`),
and the key is released as the outbox delivers them. A delivery a full queue
cannot take overflows to a list the drain thread writes to the outbox, so the
caller's thread never waits on the store. Every piece of this state sits under
one lock, never held during I/O.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from fmc.models.outbox import OutboxItem

__all__ = ["LEASE", "STOP", "WAITING_KEYS_LIMIT", "Job", "Lanes"]

#: A delivery stored before its first attempt (persist_first) is hidden from the
#: drain this long, so the drain never sends it while a worker is sending it; after
#: a crash it becomes due when the lease ends.
LEASE = timedelta(minutes=5)

#: Put in a worker queue to stop its worker.
STOP = object()

#: At most this many outbox heads are read to learn the keys waiting after a
#: restart; with more, every delivery waits behind the outbox until it is empty.
WAITING_KEYS_LIMIT = 10_000

# A key held by an item an earlier process left: its count is not known, so it
# is released only when the outbox is empty.
_UNKNOWN = -1


@attrs.frozen
class Job:
    """One delivery on its way to a receiver.

    Attributes:
        url: The ``redirect_to`` value.
        body: The raw body.
        headers: The headers to send.
        order_key: Deliveries with the same key arrive in order.
        created_at: When it was received.
        item_id: Its outbox item's id, once stored.
        persist: Store it before the first attempt (``persist_first``).
    """

    url: str
    body: bytes = attrs.field(repr=lambda body: f"<{len(body)} bytes>")
    headers: tuple[tuple[str, str], ...]
    order_key: str
    created_at: datetime
    item_id: int | None = None
    persist: bool = False

    def item(self, *, attempts: int, error: str | None, due: datetime | None = None) -> OutboxItem:
        """The outbox item for this job, due at ``due`` (default: when it was received)."""
        return OutboxItem(
            url=self.url,
            body=self.body,
            headers=self.headers,
            order_key=self.order_key,
            created_at=self.created_at,
            attempts=attempts,
            next_attempt_at=self.created_at if due is None else due,
            last_error=error,
        )


class Lanes:
    """The worker queues and the per-key order, under one lock.

    Args:
        workers: How many worker queues.
        queue_size: Jobs waiting per queue; beyond that a job overflows.
    """

    def __init__(self, workers: int, queue_size: int) -> None:
        self.queues: list[queue.Queue[Any]] = [queue.Queue(queue_size) for _ in range(workers)]
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._unfinished = 0
        self._pending: dict[str, int] = {}
        self._inflight: set[int] = set()
        self._route_all = False
        self._overflow: deque[Job] = deque()

    # -- intake -------------------------------------------------------------

    def put(self, job: Job) -> bool:
        """Queue a job on its key's worker; False when it overflowed (its key now waits)."""
        with self._lock:
            if job.item_id is not None:
                self._inflight.add(job.item_id)
            self._unfinished += 1
            try:
                self.queues[hash(job.order_key) % len(self.queues)].put_nowait(job)
                return True
            except queue.Full:
                self._overflow.append(job)
                self._hold(job.order_key)
                return False

    def pop_overflow(self) -> Job | None:
        """The oldest job a full queue could not take, or ``None``."""
        with self._lock:
            return self._overflow.popleft() if self._overflow else None

    def stop(self) -> None:
        """Ask every worker to stop once it reaches the end of its queue."""
        for work in self.queues:
            work.put(STOP)

    # -- completion ---------------------------------------------------------

    def done(self) -> None:
        """One queued job is finished (sent, parked or dropped)."""
        with self._idle:
            self._unfinished -= 1
            if self._unfinished == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float | None) -> bool:
        """Wait until every queued job is finished; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    # -- outbox items in flight ---------------------------------------------

    def claim(self, item_id: int) -> None:
        """A worker is sending this outbox item: the drain leaves it alone."""
        with self._lock:
            self._inflight.add(item_id)

    def unclaim(self, item_id: int) -> None:
        """No worker is sending this outbox item any more."""
        with self._lock:
            self._inflight.discard(item_id)

    def claimed(self, item_id: int) -> bool:
        """Whether a worker is sending this outbox item."""
        with self._lock:
            return item_id in self._inflight

    # -- order per key ------------------------------------------------------

    def blocked(self, key: str) -> bool:
        """Whether deliveries of ``key`` wait in the outbox (so a new one must queue behind)."""
        with self._lock:
            return self._route_all or key in self._pending

    def park(self, job: Job, *, held: bool) -> None:
        """``job`` goes to the outbox: no worker sends it, and its key waits behind it."""
        with self._lock:
            if job.item_id is not None:
                self._inflight.discard(job.item_id)
            if not held:
                self._hold(job.order_key)

    def _hold(self, key: str) -> None:
        count = self._pending.get(key, 0)
        if count != _UNKNOWN:
            self._pending[key] = count + 1

    def release(self, key: str) -> None:
        """The outbox delivered (or dropped) one item of ``key``."""
        with self._lock:
            count = self._pending.get(key)
            if count is not None and count != _UNKNOWN:
                if count <= 1:
                    del self._pending[key]
                else:
                    self._pending[key] = count - 1

    def learn(self, heads: Iterable[OutboxItem]) -> None:
        """Keys of items an earlier process left in the outbox wait behind them."""
        seen = 0
        with self._lock:
            for item in heads:
                seen += 1
                if item.id not in self._inflight:
                    self._pending.setdefault(item.order_key, _UNKNOWN)
            self._route_all = seen >= WAITING_KEYS_LIMIT

    def outbox_emptied(self) -> None:
        """The outbox is empty: no key waits any more."""
        with self._lock:
            self._pending.clear()
            self._route_all = False
