"""No store I/O under the forwarder's lock: submit() returns while a slow outbox write blocks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from webhook_support import Receiver, start_receiver

from fmc.models.outbox import OutboxItem
from fmc.webhook import Forwarder, MemoryOutbox
from fmc.webhook.forward import ForwardRetry


class BlockedOutbox(MemoryOutbox):
    """An outbox whose writes block until released (a store that takes seconds)."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = threading.Event()
        self.release = threading.Event()

    def _block(self) -> None:
        self.writing.set()
        assert self.release.wait(10), "the test never released the outbox"

    def outbox_put(self, item: OutboxItem) -> int:
        self._block()
        return super().outbox_put(item)

    def outbox_defer(self, item_id: int, **kwargs: Any) -> None:
        self._block()
        super().outbox_defer(item_id, **kwargs)


@pytest.fixture
def shut_receiver() -> Iterator[Receiver]:
    """A receiver that holds every request until its gate opens."""
    receiver, thread = start_receiver()
    receiver.gate.clear()
    yield receiver
    receiver.gate.set()
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join(5)


def submit_in_thread(forwarder: Forwarder, url: str, key: str) -> threading.Event:
    """Call submit() in a thread; the event is set once it returned."""
    returned = threading.Event()

    def call() -> None:
        forwarder.submit(url, b"{}", [], order_key=key)
        returned.set()

    threading.Thread(target=call, daemon=True).start()
    return returned


def make(outbox: MemoryOutbox, **options: Any) -> Forwarder:
    """A started loopback forwarder with one small worker queue and no real sleeps."""
    settings: dict[str, Any] = {
        "allow_hosts": ["127.0.0.1"],
        "allow_private": True,
        "outbox": outbox,
        "workers": 1,
        "queue_size": 1,
        "drain_interval": 3600,
        "sleep": lambda _: None,
        "retry": ForwardRetry(attempts=1),
    }
    settings.update(options)
    forwarder = Forwarder(**settings)
    forwarder.start()
    return forwarder


def test_submit_returns_while_the_queue_overflow_is_written(shut_receiver: Receiver) -> None:
    """With the queue full, submit() hands the delivery to the drain thread and returns."""
    outbox = BlockedOutbox()
    forwarder = make(outbox)
    url = shut_receiver.url()
    try:
        forwarder.submit(url, b"{}", [], order_key="a")  # the worker takes it and waits
        assert shut_receiver.arrived.wait(5)
        forwarder.submit(url, b"{}", [], order_key="b")  # fills the queue
        forwarder.submit(url, b"{}", [], order_key="c")  # overflows: written by the drain thread
        assert outbox.writing.wait(5)
        returned = submit_in_thread(forwarder, url, "d")
        assert returned.wait(2), "submit() waited for the outbox write"
        assert not outbox.release.is_set()
    finally:
        outbox.release.set()
        shut_receiver.gate.set()
        assert forwarder.flush(10)
        forwarder.close(timeout=5)
    assert outbox.outbox_count() + len(shut_receiver.received) == 4


def test_submit_returns_while_a_worker_parks_a_failed_delivery() -> None:
    """A worker writing a failed delivery to the outbox does not hold up submit()."""
    outbox = BlockedOutbox()
    forwarder = make(outbox, queue_size=100)
    refused = "http://127.0.0.1:9/hook"  # the discard port: connection refused
    try:
        forwarder.submit(refused, b"{}", [], order_key="a")
        assert outbox.writing.wait(5)  # the worker is parking it, blocked in the store
        returned = submit_in_thread(forwarder, refused, "b")
        assert returned.wait(2), "submit() waited for the outbox write"
    finally:
        outbox.release.set()
        assert forwarder.flush(10)
        forwarder.close(timeout=5)
    assert outbox.outbox_count() == 2


def test_submit_with_persist_first_never_writes_on_the_callers_thread() -> None:
    """persist_first without an item id: the worker writes the item, submit() does not wait."""
    outbox = BlockedOutbox()
    forwarder = make(outbox, persist_first=True)
    try:
        returned = submit_in_thread(forwarder, "http://127.0.0.1:9/hook", "a")
        assert returned.wait(2), "submit() waited for the outbox write"
        assert outbox.writing.wait(5)
    finally:
        outbox.release.set()
        assert forwarder.flush(10)
        forwarder.close(timeout=5)
    assert outbox.outbox_count() == 1
