"""What a forwarder's worker does with a delivery: send it with retries, or park it in the outbox.

A worker thread takes jobs from its queue (:mod:`fmc.webhook.forward_queue`).
A job whose key waits behind the outbox, or that arrives while the forwarder
closes, is parked: written to the outbox, its key held. Otherwise it is sent
with up to ``retry.attempts`` immediate attempts (tenacity, waits growing
exponentially with jitter); still failing, it is parked until the drain
(:mod:`fmc.webhook.forward_drain`) retries it. A delivery that is refused or
fails for good is logged and settled: it leaves the outbox.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs
import tenacity

from fmc.errors import ForwardingRefused
from fmc.webhook.addresses import strip_url_to_path
from fmc.webhook.forward_http import PermanentError, PinnedSender, RetryableError
from fmc.webhook.forward_queue import LEASE, STOP, Job, Lanes
from fmc.webhook.forward_retry import ForwardRetry
from fmc.webhook.outbox import OutboxStore

__all__ = ["Worker"]


@attrs.frozen(kw_only=True)
class Worker:
    """Sends or parks jobs; shared by a forwarder's worker threads and its drain thread.

    Attributes:
        outbox: Where parked jobs wait.
        sender: Sends one job.
        lanes: The queues and the per-key order.
        retry: Immediate attempts and outbox waits.
        clock: Returns the current aware UTC time.
        sleep: Sleeps between immediate attempts.
        log: Where refusals, give-ups and retries are logged.
    """

    outbox: OutboxStore
    sender: PinnedSender
    lanes: Lanes
    retry: ForwardRetry
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    log: logging.Logger

    def park(
        self,
        job: Job,
        *,
        attempts: int,
        error: str | None,
        wait: timedelta,
        held: bool = False,
    ) -> None:
        """Keep a job in the outbox and hold its key until the outbox delivers it.

        The key is held first, under the lanes' lock; the store is written after, outside it.
        """
        next_at = self.clock() + wait
        self.lanes.park(job, held=held)
        if job.item_id is None:
            self.outbox.outbox_put(job.item(attempts=attempts, error=error, due=next_at))
        else:
            self.outbox.outbox_defer(
                job.item_id,
                next_attempt_at=next_at,
                attempts=attempts,
                last_error=error or "waiting behind an earlier delivery",
            )

    def park_overflow(self) -> None:
        """Write the deliveries the full queues could not take to the outbox, in order."""
        while (job := self.lanes.pop_overflow()) is not None:
            try:
                self.park(job, attempts=0, error="queue full", wait=timedelta(0), held=True)
            except Exception:
                self.log.exception(
                    "forward to %s could not be kept in the outbox", strip_url_to_path(job.url)
                )
            finally:
                self.lanes.done()

    def _settle(self, job: Job) -> None:
        """A job is finished for good (delivered, refused or abandoned)."""
        if job.item_id is not None:
            self.outbox.outbox_ack(job.item_id)
            self.lanes.unclaim(job.item_id)

    # -- workers ------------------------------------------------------------

    def run(self, work: Any, ready: threading.Event, stop: threading.Event) -> None:
        """A worker thread: send the jobs of one queue until it holds :data:`STOP`."""
        ready.wait()
        while True:
            job = work.get()
            if job is STOP:
                return
            try:
                if stop.is_set():
                    self.park(job, attempts=0, error=None, wait=timedelta(0))
                else:
                    self._process(self._persisted(job))
            except Exception:
                self.log.exception("forward to %s failed unexpectedly", strip_url_to_path(job.url))
            finally:
                self.lanes.done()

    def _persisted(self, job: Job) -> Job:
        """With ``persist_first``, a job not stored yet is stored before its first attempt."""
        if not job.persist or job.item_id is not None:
            return job
        item_id = self.outbox.outbox_put(
            job.item(attempts=0, error=None, due=job.created_at + LEASE)
        )
        self.lanes.claim(item_id)
        return attrs.evolve(job, item_id=item_id)

    def _process(self, job: Job) -> None:
        if self.lanes.blocked(job.order_key):
            self.park(job, attempts=0, error=None, wait=timedelta(0))
            return
        url = strip_url_to_path(job.url)
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.attempts),
            wait=tenacity.wait_exponential(
                multiplier=self.retry.wait_initial, max=self.retry.wait_max
            )
            + tenacity.wait_random(0, self.retry.wait_jitter),
            retry=tenacity.retry_if_exception_type(RetryableError),
            sleep=self.sleep,
            reraise=True,
            before_sleep=lambda state: self.log.info(
                "forward to %s failed (attempt %d), retrying: %s",
                url,
                state.attempt_number,
                state.outcome.exception() if state.outcome else None,
            ),
        )
        try:
            retrying(self.sender.send, job.url, job.body, job.headers)
        except ForwardingRefused as exc:
            self.log.warning("forward to %s refused: %s", url, exc.reason)
            self._settle(job)
        except PermanentError as exc:
            self.log.error("forward to %s given up: %s", url, exc)
            self._settle(job)
        except RetryableError as exc:
            self.log.warning(
                "forward to %s failed %d times, kept in the outbox: %s",
                url,
                self.retry.attempts,
                exc,
            )
            attempts = self.retry.attempts
            self.park(job, attempts=attempts, error=str(exc), wait=self.retry.outbox_wait(attempts))
        else:
            self._settle(job)
