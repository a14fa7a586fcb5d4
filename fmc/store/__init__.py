"""Subscriber stores: subscribers, webhook dedup keys, the forwarding outbox, broadcast journals.

:class:`SQLiteStore` is the default (one file, WAL, safe across threads);
:class:`PostgresStore` needs the ``postgres`` extra (psycopg 3), imported only
when a :class:`PostgresStore` is created; :class:`MemoryStore` is for tests.
All three implement the :class:`SubscriberStore` protocol.
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
from fmc.store.postgres import PostgresStore
from fmc.store.registry import RegistryStore, StoredAccount, StoredApp
from fmc.store.sqlite import SQLiteStore

__all__ = [
    "BroadcastInfo",
    "DeliveryResult",
    "DeliveryWrite",
    "EventEffects",
    "EventRecord",
    "MemoryStore",
    "PostgresStore",
    "RegistryStore",
    "SQLiteStore",
    "StatusChange",
    "StoredAccount",
    "StoredApp",
    "SubscriberStore",
    "TokenChange",
]
