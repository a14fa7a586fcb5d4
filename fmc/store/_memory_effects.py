"""The newer-wins changes of :meth:`~fmc.store.MemoryStore.apply_delivery`, on its dicts.

The caller holds the store's lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from fmc.models.subscriber import Subscriber
from fmc.store import _effects as rules
from fmc.store._codec import to_micros, tokens_from_data, tokens_to_data, utc
from fmc.store.delivery import StatusChange, TokenChange

__all__ = ["change_status", "change_token", "freshness"]


def freshness(keys: Sequence[str | None], seen: set[str]) -> tuple[tuple[bool, ...], list[str]]:
    """Which events are new, and the keys to mark (a key repeated in a delivery is new once)."""
    new: dict[str, None] = {}
    fresh = []
    for key in keys:
        is_new = key is None or (key not in seen and key not in new)
        if key is not None and is_new:
            new[key] = None
        fresh.append(is_new)
    return tuple(fresh), list(new)


def change_status(
    subscribers: dict[tuple[str, str], Subscriber],
    put: Callable[[Subscriber], None],
    status_at: dict[tuple[str, str], datetime],
    change: StatusChange,
) -> None:
    """Apply one status change, newer wins (see :class:`~fmc.store.delivery.StatusChange`)."""
    key = (change.page_id, change.psid)
    at = utc(change.at, "at")
    last = status_at.get(key)
    if last is not None and last > at:
        return
    old = subscribers.get(key)
    if change.only_from is not None and (old is None or old.status not in change.only_from):
        return
    old = old if old is not None else Subscriber(*key)
    first = old.first_seen_at if old.first_seen_at is not None else at
    put(attrs.evolve(old, status=change.status, status_reason=change.reason, first_seen_at=first))
    status_at[key] = at


def change_token(
    old: Subscriber,
    put: Callable[[Subscriber], None],
    token_at: dict[tuple[str, str, str], int],
    change: TokenChange,
) -> None:
    """Apply one token change, newer wins, on the tokens' dict form like the databases."""
    page_id, psid = old.page_id, old.psid
    data = [
        {**d, rules.CHANGED_AT: token_at.get((page_id, psid, d["token"]))}
        for d in tokens_to_data(old.tokens)
    ]
    applied = rules.apply_token_change(data, change)
    if applied is not None:
        put(attrs.evolve(old, tokens=tokens_from_data(applied)))
        token_at[(page_id, psid, change.token.token)] = to_micros(change.at, "at")
