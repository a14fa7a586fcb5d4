"""Drill: an outbox whose writes take 2 s never slows down the answer to Facebook.

A real Forwarder forwards to an address that refuses connections, so every
delivery fails and is written to the outbox; the worker queues are tiny, so
most deliveries overflow and are written by the drain thread. Each outbox
write takes 2 s. ``submit()`` (what the webhook calls before answering) is
timed: it never runs an outbox write on its own thread, and returns in a small
fraction of a write (the figure is printed). Once the writes speed up again,
every delivery is in the outbox: nothing was dropped.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import pytest

from fmc.models.outbox import OutboxItem
from fmc.webhook import Forwarder, MemoryOutbox
from fmc.webhook.forward import ForwardRetry

WRITE_SECONDS = 2.0
DELIVERIES = 30


class SlowOutbox(MemoryOutbox):
    """Each write takes WRITE_SECONDS until ``fast`` is set; records the writing threads."""

    def __init__(self) -> None:
        super().__init__()
        self.fast = threading.Event()
        self.writers: set[int] = set()
        self.started = threading.Event()

    def _slow(self) -> None:
        self.writers.add(threading.get_ident())
        self.started.set()
        self.fast.wait(WRITE_SECONDS)

    def outbox_put(self, item: OutboxItem) -> int:
        self._slow()
        return super().outbox_put(item)

    def outbox_defer(self, item_id: int, **kwargs: Any) -> None:
        self._slow()
        super().outbox_defer(item_id, **kwargs)

    def outbox_ack(self, item_id: int) -> None:
        self._slow()
        super().outbox_ack(item_id)


@pytest.mark.slow
@pytest.mark.parametrize("persist_first", [False, True], ids=["queued", "persist-first"])
def test_submit_never_waits_for_a_slow_outbox(persist_first: bool) -> None:
    """submit() with 2 s outbox writes: never on the caller's thread, milliseconds, nothing lost."""
    outbox = SlowOutbox()
    forwarder = Forwarder(
        ["127.0.0.1"],
        allow_private=True,
        outbox=outbox,
        workers=2,
        queue_size=2,
        drain_interval=3600,
        persist_first=persist_first,
        retry=ForwardRetry(attempts=1),
        sleep=lambda _: None,
    )
    forwarder.start()
    refused = "http://127.0.0.1:9/hook"  # the discard port: connection refused
    took: list[float] = []
    try:
        forwarder.submit(refused, b"first", [], order_key="k-first")
        assert outbox.started.wait(10), "no outbox write started"
        for number in range(DELIVERIES):
            started = time.perf_counter()
            forwarder.submit(refused, b"%d" % number, [], order_key=f"k{number}")
            took.append(time.perf_counter() - started)
        writing = not outbox.fast.is_set()
    finally:
        outbox.fast.set()
        assert forwarder.flush(60)
        forwarder.close(timeout=10)
    mode = "persist_first" if persist_first else "queued"
    print(
        f"\nsubmit() with {WRITE_SECONDS:g} s outbox writes ({mode}):"
        f" median {statistics.median(took) * 1000:.3f} ms, max {max(took) * 1000:.3f} ms"
        f" over {DELIVERIES} deliveries"
    )
    assert writing, "the slow writes were still going on while submit() returned"
    assert threading.get_ident() not in outbox.writers, "submit() wrote to the outbox itself"
    assert max(took) < WRITE_SECONDS, "a submit() waited as long as an outbox write"
    assert outbox.outbox_count() == DELIVERIES + 1, "every delivery kept"
