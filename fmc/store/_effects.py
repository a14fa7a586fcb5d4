"""The rules of :meth:`~fmc.store.SubscriberStore.apply_delivery` every backend shares.

Tokens are kept as JSON-ready dicts (see :func:`~fmc.store._codec.tokens_to_data`)
with one extra key, ``changed_at`` (epoch microseconds of the last change
applied to the token), which the models do not carry: it only decides whether
a later-arriving change is newer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fmc.models.subscriber import TokenStatus
from fmc.store._codec import MergedEvent, merge_events, to_micros, tokens_to_data
from fmc.store.delivery import DeliveryWrite, EventEffects, StatusChange, TokenChange

__all__ = [
    "CHANGED_AT",
    "apply_token_change",
    "check_write",
    "fresh_effects",
    "merged_records",
    "status_changes",
    "token_groups",
    "wants_outbox",
]

#: The token dict key holding the time of its last applied change.
CHANGED_AT = "changed_at"


def check_write(write: DeliveryWrite) -> None:
    """Reject what a database would refuse only half-way through the transaction.

    Raises:
        ValueError: a naive datetime in a token.
    """
    for effects in write.effects:
        for change in effects.tokens:
            tokens_to_data([change.token])


def fresh_effects(write: DeliveryWrite, fresh: Sequence[bool]) -> list[EventEffects]:
    """The effects of the events that were new, in order."""
    return [effects for effects, new in zip(write.effects, fresh, strict=True) if new]


def merged_records(chosen: Sequence[EventEffects]) -> list[MergedEvent]:
    """All the chosen events' registrations, one per person (see ``merge_events``)."""
    return merge_events(record for effects in chosen for record in effects.records)


def status_changes(chosen: Sequence[EventEffects]) -> Iterator[StatusChange]:
    """The chosen events' status changes, in order."""
    for effects in chosen:
        yield from effects.statuses


def token_groups(chosen: Sequence[EventEffects]) -> dict[tuple[str, str], list[TokenChange]]:
    """The chosen events' token changes per person, in order, people sorted by key."""
    groups: dict[tuple[str, str], list[TokenChange]] = {}
    for effects in chosen:
        for change in effects.tokens:
            groups.setdefault((change.page_id, change.psid), []).append(change)
    return {key: groups[key] for key in sorted(groups)}


def wants_outbox(write: DeliveryWrite, fresh: Sequence[bool]) -> bool:
    """Whether the outbox item is stored: some event is new, or there are none."""
    return write.outbox is not None and (any(fresh) or not write.keys)


def apply_token_change(
    tokens: list[dict[str, Any]], change: TokenChange
) -> list[dict[str, Any]] | None:
    """Apply one token change to a person's token dicts, newer wins.

    Args:
        tokens: The stored token dicts.
        change: The change.

    Returns:
        The new list, or ``None`` when the change is older than the token's
        last applied change (nothing to write).
    """
    at = to_micros(change.at, "at")
    new = tokens_to_data([change.token])[0]
    new[CHANGED_AT] = at
    for index, old in enumerate(tokens):
        if old.get("token") != change.token.token:
            continue
        last = old.get(CHANGED_AT)
        if last is not None and last > at:
            return None
        if change.token.status is TokenStatus.STOPPED:
            new = {**old, "status": TokenStatus.STOPPED.value, CHANGED_AT: at}
        return [*tokens[:index], new, *tokens[index + 1 :]]
    return [*tokens, new]
