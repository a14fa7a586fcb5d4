"""Subscriber stores: subscribers, webhook dedup keys, the forwarding outbox, broadcast journals.

:class:`SQLiteStore` is the default (one file, WAL, safe across threads);
:class:`PostgresStore` needs the ``postgres`` extra (psycopg 3), imported only
when a :class:`PostgresStore` is created; :class:`MemoryStore` is for tests.
All three implement the :class:`SubscriberStore` protocol, the composition of
one small protocol per concern (:mod:`fmc.store.protocols`).
"""

from __future__ import annotations

from fmc.store.base import BroadcastInfo, EventRecord, SubscriberStore
from fmc.store.delivery import (
    DeliveryResult,
    DeliveryWrite,
    EventEffects,
    StatusChange,
    TokenChange,
)
from fmc.store.memory import MemoryStore
from fmc.store.memory_outbox import MemoryOutbox
from fmc.store.postgres import PostgresStore
from fmc.store.protocols import (
    DedupStore,
    DeliveryStore,
    JournalStore,
    OutboxStore,
    SubscriberDirectory,
)
from fmc.store.registry import RegistryStore, StoredAccount, StoredApp
from fmc.store.sqlite import SQLiteStore

__all__ = [
    "BroadcastInfo",
    "DedupStore",
    "DeliveryResult",
    "DeliveryStore",
    "DeliveryWrite",
    "EventEffects",
    "EventRecord",
    "JournalStore",
    "MemoryOutbox",
    "MemoryStore",
    "OutboxStore",
    "PostgresStore",
    "RegistryStore",
    "SQLiteStore",
    "StatusChange",
    "StoredAccount",
    "StoredApp",
    "SubscriberDirectory",
    "SubscriberStore",
    "TokenChange",
]
