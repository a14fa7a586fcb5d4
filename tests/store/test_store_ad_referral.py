"""Subscriber.ad_referral_at: recorded from a delivery, newest wins, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from fmc.store import EventRecord, SubscriberStore
from fmc.store.delivery import DeliveryWrite, EventEffects

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)
PAGE = "page-1"


def at(hours: float) -> datetime:
    """A time ``hours`` after T0."""
    return T0 + timedelta(hours=hours)


def event(hours: float, *, ad: bool, key: str | None = None) -> tuple[str | None, EventEffects]:
    """A message from ``p1`` at ``hours``, from an ad or not, with its dedup key."""
    record = EventRecord(PAGE, "p1", at(hours), interaction=True, ad_referral=ad)
    return key, EventEffects(records=[record])


def deliver(store: SubscriberStore, *events: tuple[str | None, EventEffects]) -> None:
    """Commit ``events`` as one delivery."""
    keys = [key for key, _ in events]
    effects = [effect for _, effect in events]
    store.apply_delivery(
        DeliveryWrite(keys=keys, effects=effects, now=at(200), window=timedelta(hours=36))
    )


def ad_time(store: SubscriberStore) -> datetime | None:
    """The stored ``ad_referral_at`` of ``p1``."""
    found = store.get(PAGE, "p1")
    assert found is not None
    return found.ad_referral_at


@pytest.mark.parametrize(
    ("deliveries", "expected"),
    [
        ([[(1, True)]], 1),
        ([[(1, False)]], None),
        ([[(1, True), (3, True)]], 3),
        ([[(3, True), (1, True)]], 3),
        ([[(3, True)], [(1, True)]], 3),
        ([[(1, True)], [(3, True)]], 3),
        ([[(1, True)], [(5, False)]], 1),
        ([[(1, True), (5, False)]], 1),
    ],
    ids=[
        "ad-message",
        "plain-message",
        "newest-in-a-delivery",
        "newest-in-a-delivery-reversed",
        "late-older-ad-does-not-move-it-back",
        "later-ad-moves-it-on",
        "plain-message-later-keeps-it",
        "plain-message-beside-keeps-it",
    ],
)
def test_ad_referral_time_is_the_newest_ad_event(
    store: SubscriberStore, deliveries: list[list[tuple[float, bool]]], expected: float | None
) -> None:
    """The newest message from an ad wins; older or plain events never move it back."""
    for delivery in deliveries:
        deliver(store, *(event(hours, ad=ad) for hours, ad in delivery))
    assert ad_time(store) == (None if expected is None else at(expected))


def test_a_duplicate_delivery_does_not_record_the_ad(store: SubscriberStore) -> None:
    """An event whose dedup key was seen is not applied, ad time included."""
    deliver(store, event(1, ad=False, key="m1"))
    deliver(store, event(2, ad=True, key="m1"))
    assert ad_time(store) is None


def test_record_events_keeps_the_ad_time(store: SubscriberStore) -> None:
    """record_events (without a delivery) records it the same way."""
    store.record_events([EventRecord(PAGE, "p1", at(2), interaction=True, ad_referral=True)])
    store.record_events([EventRecord(PAGE, "p1", at(1), interaction=True, ad_referral=True)])
    assert ad_time(store) == at(2)


def test_ad_time_survives_reopening(make_store: Callable[[], SubscriberStore]) -> None:
    """The time is stored, not only kept in the process (a second store reads it)."""
    deliver(make_store(), event(4, ad=True))
    assert ad_time(make_store()) == at(4)


def test_listing_returns_the_ad_time(store: SubscriberStore) -> None:
    """Subscribers listed page by page carry the time too."""
    deliver(store, event(4, ad=True))
    assert [s.ad_referral_at for s in store.iter_subscribers(PAGE)] == [at(4)]
