"""Start a distributed broadcast and run one of its shards: the one function any engine calls.

:func:`begin_distributed` records the broadcast's per-Page parts (their
message and purpose) in the store; an engine then runs :func:`run_shard` once
per :class:`~fmc.scale.ShardSpec`, on any worker. A shard run is an ordinary
journaled :class:`~fmc.channel.broadcast.BroadcastRun` over the shard's
subscribers, so everything the journal guarantees holds across workers: a
shard run twice, at once or one after the other, sends nobody anything twice
(its claims are compare-and-set inserts, owned by the run that made them), and
the sends of a killed worker that may have reached Meta become ``AMBIGUOUS``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import attrs

from fmc.channel.broadcast import BroadcastRun
from fmc.channel.control import DEFAULT_LEASE
from fmc.channel.report import BroadcastReport
from fmc.convert import message_from_wire, to_wire
from fmc.errors import ConfigurationError
from fmc.policy import Purpose
from fmc.scale.shards import ShardSpec, part_id, plan_shards
from fmc.store.protocols import BroadcastRecorder

if TYPE_CHECKING:
    from fmc.models import Message
    from fmc.models.subscriber import Subscriber
    from fmc.policy import MessagingPolicy
    from fmc.store import SubscriberStore
    from fmc.transport import Client

__all__ = [
    "RATE_WINDOW",
    "BroadcastRecorder",
    "PageOpener",
    "PageResources",
    "ShardResult",
    "begin_distributed",
    "run_shard",
]


#: How long a shard job keeps its Page's lock after its last send: one window of
#: the client's rate limiter (1.02 s), so the next shard of the Page, on any
#: worker, starts with a window of its own and no second at Meta holds more
#: than the Page's rate.
RATE_WINDOW = 1.05


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@attrs.frozen
class PageResources:
    """What a worker needs to send for one Page.

    Attributes:
        client: The Page's client (its rate limit applies to this worker's sends).
        store: The store holding the Page's subscribers and the journal.
        policy: The Page's messaging policy.
        clock: The time the policy judges by.
    """

    client: Client
    store: SubscriberStore
    policy: MessagingPolicy
    clock: Callable[[], datetime] = _utcnow


#: Builds a Page's resources from the worker's own configuration, closed on exit.
PageOpener = Callable[[str], AbstractContextManager[PageResources]]


@attrs.frozen
class ShardResult:
    """What running one shard did: one report per pass (see :func:`run_shard`).

    Attributes:
        shard: The shard.
        reports: The report of each pass, in order.
    """

    shard: ShardSpec
    reports: tuple[BroadcastReport, ...]

    @property
    def sent(self) -> int:
        """Sends Meta accepted, over all passes."""
        return sum(report.sent for report in self.reports)

    @property
    def paused(self) -> str | None:
        """Why the last pass stopped early (a dead token pauses only its Page's shards)."""
        return self.reports[-1].paused

    @property
    def elsewhere(self) -> int:
        """Subscribers another live run still held at the end of the last pass."""
        return self.reports[-1].elsewhere


def begin_distributed(
    store: BroadcastRecorder,
    broadcast_id: str,
    page_ids: Sequence[str],
    message: Message,
    purpose: Purpose,
    *,
    shards_per_page: int = 1,
    at: datetime | None = None,
) -> list[ShardSpec]:
    """Record a distributed broadcast's parts (one per Page) and return its shards.

    Safe to call again with the same arguments: the parts are only recorded
    once, and the same shards come back.

    Raises:
        ConfigurationError: A part exists with another message or purpose, or
            the Pages or shard count are invalid.
    """
    shards = plan_shards(page_ids, shards_per_page=shards_per_page)
    message_json = json.dumps(to_wire(message), sort_keys=True, ensure_ascii=False)
    created = at or _utcnow()
    for page_id in page_ids:
        info = store.broadcast_begin(
            part_id(broadcast_id, page_id),
            page_id=page_id,
            purpose=purpose.value,
            message=message_json,
            created_at=created,
        )
        if info.message != message_json or info.purpose != purpose.value:
            raise ConfigurationError(
                f"broadcast {broadcast_id!r} already exists for Page {page_id} with another "
                "message or purpose; use a new broadcast id"
            )
    return shards


def _audience(store: SubscriberStore, shard: ShardSpec) -> Iterator[Subscriber]:
    return (s for s in store.iter_subscribers(shard.page_id) if shard.contains(s.psid))


def run_shard(
    broadcast_id: str,
    shard: ShardSpec,
    open_page: PageOpener,
    *,
    lease: timedelta = DEFAULT_LEASE,
    concurrency: int | None = None,
    batch_size: int | None = None,
    at_least_once: bool = False,
    stop: threading.Event | None = None,
    max_passes: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> ShardResult:
    """Send a distributed broadcast to one shard's subscribers; safe to run twice.

    A pass is one journaled run over the shard. When a pass ends with
    subscribers still claimed by other runs (a duplicate of this job that is
    still going, or a killed worker whose lease has not yet run out), the
    function waits one lease and runs another pass, which recovers the
    claims of runs that stopped beating; it gives up after ``max_passes``
    (whatever a live run holds, that run sends).

    Args:
        broadcast_id: The distributed broadcast (see :func:`begin_distributed`).
        shard: Which shard.
        open_page: Builds the shard's Page client, store and policy.
        lease: How long a run may go without a heartbeat before other runs
            presume it dead.
        concurrency: Sends in flight (the client's default when ``None``).
        batch_size: Sends per Graph batch request (none when ``None``).
        at_least_once: Resend to subscribers whose earlier send was ambiguous.
        stop: Set it to stop gracefully (e.g. on a worker's warm shutdown).
        max_passes: At most this many passes.
        sleep: Waits between passes.

    Raises:
        ConfigurationError: The broadcast was never begun for the shard's Page.
    """
    if max_passes < 1:
        raise ConfigurationError("max_passes must be at least 1")
    reports: list[BroadcastReport] = []
    with open_page(shard.page_id) as page:
        part = part_id(broadcast_id, shard.page_id)
        info = page.store.broadcast_get(part)
        if info is None:
            raise ConfigurationError(
                f"broadcast {broadcast_id!r} has no part for Page {shard.page_id}; "
                "begin it (fmc.scale.begin_distributed) before running its shards"
            )
        message = message_from_wire(json.loads(info.message))
        for _ in range(max_passes):
            if reports:
                sleep(lease.total_seconds())
            report = BroadcastRun(
                page_id=shard.page_id,
                client=page.client,
                store=page.store,
                policy=page.policy,
                message=message,
                purpose=Purpose(info.purpose),
                broadcast_id=part,
                audience=_audience(page.store, shard),
                at_least_once=at_least_once,
                progress=None,
                clock=page.clock,
                concurrency=concurrency,
                batch_size=batch_size,
                stop=stop,
                lease=lease,
            ).run()
            reports.append(report)
            if report.paused is not None or report.elsewhere == 0:
                break
    return ShardResult(shard, tuple(reports))
