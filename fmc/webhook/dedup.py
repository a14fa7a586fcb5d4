"""Deduplication of webhook events: Facebook delivers at least once.

An event's key is its ``mid`` when it has one of its own (messages, echoes,
postbacks), otherwise its kind, page, sender and timestamp (plus what tells two
such events apart, like a reaction's action). Keys are checked and marked in a
:class:`DedupStore` (one of a store's protocols, kept in :mod:`fmc.store.protocols`);
:class:`MemoryDedup` is the bounded in-memory default and fmc's stores
implement the protocol durably.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from fmc.errors import ConfigurationError
from fmc.store.protocols import DedupStore
from fmc.webhook.events import (
    EchoEvent,
    Event,
    MessageEditEvent,
    MessageEvent,
    PostbackEvent,
    ReactionEvent,
    UnknownEvent,
)
from fmc.webhook.invalid import InvalidEvent

__all__ = ["DedupStore", "MemoryDedup", "dedup_key"]


class MemoryDedup:
    """A bounded, thread-safe in-memory :class:`DedupStore`.

    The oldest marks are forgotten first once ``max_keys`` is reached, so memory
    stays bounded whatever the traffic; a redelivery older than that many
    events is then dispatched again (at least once, never lost).

    Args:
        max_keys: The most keys remembered.

    Raises:
        ConfigurationError: ``max_keys`` is not positive.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        if max_keys < 1:
            raise ConfigurationError("max_keys must be at least 1")
        self.max_keys = max_keys
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def dedup_check_and_mark(self, key: str, *, now: datetime, window: timedelta) -> bool:
        """Check a key and mark it seen; see :meth:`DedupStore.dedup_check_and_mark`.

        Args:
            key: The event's dedup key.
            now: The current time.
            window: How long a mark counts.

        Returns:
            True for a duplicate.
        """
        seen = self._seen
        with self._lock:
            marked = seen.get(key)
            if marked is not None and now - marked < window:
                return True
            seen[key] = now
            if marked is not None:
                seen.move_to_end(key)
            if len(seen) > self.max_keys:
                seen.popitem(last=False)
            return False


def _unknown_key(event: UnknownEvent) -> str | None:
    try:
        text = json.dumps(event.raw, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return None
    return "unknown:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def dedup_key(event: Event) -> str | None:
    """The key that identifies an event across redeliveries.

    Args:
        event: Any event.

    Returns:
        The key, or ``None`` when the event cannot be identified (it is then
        always dispatched).
    """
    if isinstance(event, InvalidEvent):
        return None  # its ids cannot be stored; it is always dispatched
    prefix = "s:" if event.standby else ""
    if isinstance(event, (MessageEvent, EchoEvent)):
        return prefix + "mid:" + event.mid
    if isinstance(event, PostbackEvent) and event.mid is not None:
        return prefix + "mid:" + event.mid
    if isinstance(event, UnknownEvent):
        return _unknown_key(event)
    raw = event.raw
    sender = raw.get("sender")
    sender_id = sender.get("id") if type(sender) is dict else None
    base = (
        f"{prefix}{event.kind}:{getattr(event, 'page_id', '')}:{sender_id}:{raw.get('timestamp')}"
    )
    if isinstance(event, ReactionEvent):
        return f"{base}:{event.action}:{event.mid}"
    if isinstance(event, MessageEditEvent):
        return f"{base}:{event.mid}:{event.num_edit}"
    return base
