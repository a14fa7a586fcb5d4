"""The in-memory forwarding outbox: the forwarder's default, and :class:`~fmc.store.MemoryStore`'s.

Items with the same ``order_key`` leave in the order they arrived:
``outbox_due`` offers only the oldest waiting item of each key.
"""

from __future__ import annotations

import threading
from datetime import datetime

import attrs

from fmc.models.outbox import OutboxItem

__all__ = ["MemoryOutbox"]


class MemoryOutbox:
    """An in-memory, thread-safe :class:`~fmc.store.protocols.OutboxStore` (lost on restart).

    fmc's SQLite and PostgreSQL stores keep the outbox durably.
    """

    def __init__(self) -> None:
        self._items: dict[int, OutboxItem] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    def outbox_put(self, item: OutboxItem) -> int:
        """Store an item.

        Args:
            item: The delivery to keep.

        Returns:
            Its new id.
        """
        with self._lock:
            item_id = self._next_id
            self._next_id += 1
            self._items[item_id] = attrs.evolve(item, id=item_id)
            return item_id

    def outbox_due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Items due now, at most one per ``order_key`` (its oldest), oldest first.

        Args:
            now: The current time.
            limit: The most items returned.

        Returns:
            The due items.
        """
        due: list[OutboxItem] = []
        heads: set[str] = set()
        with self._lock:
            for item in self._items.values():
                if item.order_key in heads:
                    continue
                heads.add(item.order_key)
                if item.next_attempt_at is None or item.next_attempt_at <= now:
                    due.append(item)
                    if len(due) >= limit:
                        break
        return due

    def outbox_ack(self, item_id: int) -> None:
        """Forget an item.

        Args:
            item_id: Its id.
        """
        with self._lock:
            self._items.pop(item_id, None)

    def outbox_defer(
        self, item_id: int, *, next_attempt_at: datetime, attempts: int, last_error: str
    ) -> None:
        """Record a failed attempt.

        Args:
            item_id: Its id.
            next_attempt_at: Not before then.
            attempts: Failed attempts so far.
            last_error: Why the last one failed.
        """
        with self._lock:
            item = self._items.get(item_id)
            if item is not None:
                self._items[item_id] = attrs.evolve(
                    item, next_attempt_at=next_attempt_at, attempts=attempts, last_error=last_error
                )

    def outbox_count(self) -> int:
        """How many items are waiting.

        Returns:
            The count.
        """
        with self._lock:
            return len(self._items)
