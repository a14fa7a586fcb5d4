"""SubscriberStore is the composition of one small protocol per concern, each declared once."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import fmc.store
import fmc.webhook
from fmc.models.outbox import OutboxItem
from fmc.store import (
    DedupStore,
    DeliveryStore,
    JournalStore,
    MemoryOutbox,
    OutboxStore,
    SubscriberDirectory,
    SubscriberStore,
)

PARTS = [SubscriberDirectory, DedupStore, DeliveryStore, OutboxStore, JournalStore]
LIFECYCLE = {"close", "__enter__", "__exit__"}


def members(protocol: type) -> set[str]:
    """The methods a protocol class declares itself."""
    return {name for name, value in vars(protocol).items() if callable(value)} - {
        "__init__",
        "__subclasshook__",
        "_proto_hook",
    }


@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.__name__)
def test_every_backend_has_every_part(store: SubscriberStore, part: type) -> None:
    """Memory, SQLite and PostgreSQL stores each satisfy every small protocol."""
    assert isinstance(store, part)


def test_the_store_protocol_is_the_parts_and_its_lifecycle() -> None:
    """SubscriberStore declares only the lifecycle; every other method comes from one part."""
    assert members(SubscriberStore) == LIFECYCLE
    declared = [name for part in PARTS for name in members(part)]
    assert len(declared) == len(set(declared))
    assert all(issubclass(SubscriberStore, part) for part in PARTS)


@pytest.mark.parametrize("name", ["DedupStore", "OutboxStore", "MemoryOutbox"], ids=lambda n: n)
def test_the_webhook_layer_uses_the_stores_own_objects(name: str) -> None:
    """fmc.webhook re-exports the store's protocol objects; nothing is declared twice."""
    assert getattr(fmc.webhook, name) is getattr(fmc.store, name)


def test_memory_outbox_is_an_outbox_store() -> None:
    """The forwarder's in-memory default satisfies the outbox protocol."""
    assert isinstance(MemoryOutbox(), OutboxStore)


def test_naive_next_attempt_is_refused_at_put(store: SubscriberStore) -> None:
    """An item whose next attempt is a naive datetime is a ValueError, and nothing is kept."""
    item = OutboxItem(
        url="https://bot.example/hook",
        body=b"{}",
        headers=[("Content-Type", "application/json")],
        order_key="p1",
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        next_attempt_at=datetime(2026, 1, 1, 0, 5),
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        store.outbox_put(item)
    assert store.outbox_count() == 0
