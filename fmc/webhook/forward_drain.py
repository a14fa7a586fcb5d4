"""The forwarder's outbox drain: retry what waits in the outbox, oldest first per key.

:meth:`OutboxDrain.drain` offers each due item (the store hands out only the
oldest of each ``order_key``) to the receiver once more: delivered or refused
for good, it leaves the outbox and its key moves on; failed again, it waits
longer (:meth:`~fmc.webhook.ForwardRetry.outbox_wait`) until ``give_up_after``,
when it is logged and dropped. Items a worker is sending right now are skipped.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from datetime import datetime

import attrs

from fmc.errors import ForwardingRefused
from fmc.models.outbox import OutboxItem
from fmc.webhook.addresses import strip_url_to_path
from fmc.webhook.forward_http import PermanentError, PinnedSender, RetryableError
from fmc.webhook.forward_queue import Lanes
from fmc.webhook.forward_retry import ForwardRetry
from fmc.webhook.outbox import OutboxStore

__all__ = ["OutboxDrain", "Outcome"]


class Outcome(enum.Enum):
    """What one outbox retry came to."""

    DELIVERED = "delivered"
    DROPPED = "dropped"
    DEFERRED = "deferred"


@attrs.frozen(kw_only=True)
class OutboxDrain:
    """Retries the outbox's due items (one drain at a time).

    Attributes:
        outbox: Where the items wait.
        sender: Sends one item.
        lanes: The forwarder's queues (items in flight, keys to release).
        retry: When to try again and when to give up.
        clock: Returns the current aware UTC time.
        batch: Items fetched per pass.
        log: Where give-ups and refusals are logged.
    """

    outbox: OutboxStore
    sender: PinnedSender
    lanes: Lanes
    retry: ForwardRetry
    clock: Callable[[], datetime]
    batch: int
    log: logging.Logger
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def drain(self) -> int:
        """Retry the due items, in order per key, until none is left due.

        Returns:
            How many items were delivered.
        """
        delivered = 0
        with self._lock:
            while True:
                progressed = False
                for item in self.outbox.outbox_due(self.clock(), self.batch):
                    assert item.id is not None
                    if self.lanes.claimed(item.id):
                        continue
                    outcome = self._retry_item(item)
                    delivered += outcome is Outcome.DELIVERED
                    progressed = progressed or outcome is not Outcome.DEFERRED
                if not progressed:
                    break
            if self.outbox.outbox_count() == 0:
                self.lanes.outbox_emptied()
        return delivered

    def _retry_item(self, item: OutboxItem) -> Outcome:
        assert item.id is not None
        url = strip_url_to_path(item.url)
        outcome = Outcome.DROPPED
        try:
            self.sender.send(item.url, item.body, item.headers)
        except ForwardingRefused as exc:
            self.log.warning("outbox forward to %s refused, dropped: %s", url, exc.reason)
        except PermanentError as exc:
            self.log.error("outbox forward to %s given up: %s", url, exc)
        except RetryableError as exc:
            attempts = item.attempts + 1
            now = self.clock()
            if now - item.created_at < self.retry.give_up_after:
                self.outbox.outbox_defer(
                    item.id,
                    next_attempt_at=now + self.retry.outbox_wait(attempts),
                    attempts=attempts,
                    last_error=str(exc),
                )
                return Outcome.DEFERRED
            self.log.error(
                "outbox forward to %s given up after %d attempts over %s: %s",
                url,
                attempts,
                now - item.created_at,
                exc,
            )
        else:
            outcome = Outcome.DELIVERED
        self.outbox.outbox_ack(item.id)
        self.lanes.release(item.order_key)
        return outcome
