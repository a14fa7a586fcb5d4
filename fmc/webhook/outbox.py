"""The forwarding outbox: deliveries waiting for their ``redirect_to`` receiver.

:class:`OutboxStore` is the protocol the :class:`~fmc.webhook.forward.Forwarder`
needs; fmc's SQLite and PostgreSQL stores implement it durably, and
:class:`MemoryOutbox` is the in-memory default. Both live in :mod:`fmc.store`
(the outbox is one of a store's protocols); this module keeps their webhook names.
"""

from __future__ import annotations

from fmc.store import MemoryOutbox, OutboxStore

__all__ = ["MemoryOutbox", "OutboxStore"]
