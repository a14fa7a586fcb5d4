"""apply_delivery: one webhook delivery committed all or nothing, newer wins, on every backend."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest

from fmc.errors import StoreError
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import NotificationToken, SubscriberStatus, TokenKind, TokenStatus
from fmc.store import EventRecord, MemoryStore, SubscriberStore
from fmc.store.delivery import (
    NO_EFFECTS,
    DeliveryWrite,
    EventEffects,
    StatusChange,
    TokenChange,
)

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
PAGE = "page-1"
WINDOW = timedelta(hours=36)
ACTIVE, OPTED_OUT = SubscriberStatus.ACTIVE, SubscriberStatus.OPTED_OUT


def at(minutes: float) -> datetime:
    """A time ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def wrote(psid: str, minutes: float) -> EventEffects:
    """The effects of a message from ``psid`` at ``minutes``."""
    return EventEffects(records=[EventRecord(PAGE, psid, at(minutes), interaction=True)])


def status(psid: str, new: SubscriberStatus, minutes: float, **options: object) -> EventEffects:
    """The effects of an event changing ``psid``'s status at ``minutes``."""
    change = StatusChange(PAGE, psid, new, at(minutes), **options)  # type: ignore[arg-type]
    return EventEffects(statuses=[change])


def token(value: str, minutes: float, state: TokenStatus = TokenStatus.ACTIVE) -> EventEffects:
    """The effects of a recurring-notification opt-in (or stop) at ``minutes``."""
    given = NotificationToken(
        kind=TokenKind.NOTIFICATION_MESSAGES, token=value, topic="news", status=state
    )
    return EventEffects(tokens=[TokenChange(PAGE, "p1", given, at(minutes))])


def item(body: bytes = b"{}") -> OutboxItem:
    """An outbox item."""
    return OutboxItem("https://bot.test/hook", body, [], "p1|https://bot.test/hook", T0)


def write(
    keys: Sequence[str | None],
    effects: Sequence[EventEffects],
    *,
    outbox: OutboxItem | None = None,
    now: datetime = T0,
) -> DeliveryWrite:
    """A delivery write at ``now``."""
    return DeliveryWrite(keys=keys, effects=effects, now=now, window=WINDOW, outbox=outbox)


class TestDedup:
    def test_new_keys_are_fresh_and_marked(self, store: SubscriberStore) -> None:
        """New keys are fresh and applied; the same keys again are duplicates, not applied."""
        first = store.apply_delivery(write(["a", "b"], [wrote("p1", 0), wrote("p2", 0)]))
        second = store.apply_delivery(write(["a", "c"], [wrote("p3", 0), wrote("p4", 0)]))
        assert (first.fresh, second.fresh) == ((True, True), (False, True))
        assert store.get(PAGE, "p3") is None
        assert store.get(PAGE, "p4") is not None

    def test_repeated_key_in_one_delivery_is_fresh_once(self, store: SubscriberStore) -> None:
        """A key twice in one delivery counts once."""
        assert store.apply_delivery(write(["a", "a"], [NO_EFFECTS, NO_EFFECTS])).fresh == (
            True,
            False,
        )

    def test_keyless_events_always_apply(self, store: SubscriberStore) -> None:
        """An event without a key is always fresh."""
        store.apply_delivery(write([None], [NO_EFFECTS]))
        assert store.apply_delivery(write([None], [wrote("p1", 0)])).fresh == (True,)
        assert store.get(PAGE, "p1") is not None

    def test_marks_expire_with_the_window(self, store: SubscriberStore) -> None:
        """After the window the same key is fresh again."""
        store.apply_delivery(write(["a"], [NO_EFFECTS]))
        later = store.apply_delivery(write(["a"], [NO_EFFECTS], now=T0 + WINDOW + WINDOW))
        assert later.fresh == (True,)

    def test_shares_marks_with_dedup_check_and_mark(self, store: SubscriberStore) -> None:
        """A key committed with a delivery is a duplicate for dedup_check_and_mark too."""
        store.apply_delivery(write(["a"], [NO_EFFECTS]))
        assert store.dedup_check_and_mark("a", now=at(1), window=WINDOW) is True


class TestOutbox:
    def test_item_stored_with_a_fresh_event(self, store: SubscriberStore) -> None:
        """The outbox item is stored when an event is new, and its id returned."""
        result = store.apply_delivery(write(["a"], [NO_EFFECTS], outbox=item(b"x")))
        assert result.outbox_id is not None
        (due,) = store.outbox_due(at(1), 10)
        assert (due.id, due.body) == (result.outbox_id, b"x")

    def test_item_not_stored_for_duplicates_only(self, store: SubscriberStore) -> None:
        """A delivery made only of seen events stores no outbox item."""
        store.apply_delivery(write(["a"], [NO_EFFECTS]))
        assert store.apply_delivery(write(["a"], [NO_EFFECTS], outbox=item())).outbox_id is None
        assert store.outbox_count() == 0

    def test_item_stored_for_an_empty_delivery(self, store: SubscriberStore) -> None:
        """A delivery without events is still forwarded, so its item is stored."""
        assert store.apply_delivery(write([], [], outbox=item())).outbox_id is not None


class TestNewerWins:
    def test_late_start_does_not_undo_a_newer_stop(self, store: SubscriberStore) -> None:
        """A resume from t1 arriving after a stop from t2 > t1 changes nothing."""
        store.apply_delivery(write(["m0"], [wrote("p1", 0)]))
        store.apply_delivery(write(["stop"], [status("p1", OPTED_OUT, 2)]))
        resume = status("p1", ACTIVE, 1, only_from={OPTED_OUT})
        store.apply_delivery(write(["start"], [resume]))
        subscriber = store.get(PAGE, "p1")
        assert subscriber is not None
        assert subscriber.status is OPTED_OUT

    def test_newer_start_applies(self, store: SubscriberStore) -> None:
        """A resume newer than the stop re-activates the person."""
        store.apply_delivery(write(["m0"], [wrote("p1", 0)]))
        store.apply_delivery(write(["stop"], [status("p1", OPTED_OUT, 1)]))
        store.apply_delivery(write(["start"], [status("p1", ACTIVE, 2, only_from={OPTED_OUT})]))
        subscriber = store.get(PAGE, "p1")
        assert subscriber is not None
        assert subscriber.status is ACTIVE

    def test_only_from_leaves_other_statuses(self, store: SubscriberStore) -> None:
        """A change limited to some statuses leaves a subscriber in another one alone."""
        store.apply_delivery(write(["m0"], [wrote("p1", 0)]))
        store.apply_delivery(write(["s"], [status("p1", ACTIVE, 1, only_from={OPTED_OUT})]))
        subscriber = store.get(PAGE, "p1")
        assert subscriber is not None
        assert subscriber.status_reason is None

    def test_only_from_does_not_create(self, store: SubscriberStore) -> None:
        """A limited change does not create a missing subscriber."""
        store.apply_delivery(write(["s"], [status("p9", ACTIVE, 1, only_from={OPTED_OUT})]))
        assert store.get(PAGE, "p9") is None

    def test_set_status_time_counts(self, store: SubscriberStore) -> None:
        """set_status records its time: an older delivery change is skipped afterwards."""
        store.set_status(PAGE, "p1", SubscriberStatus.UNAVAILABLE, reason="551", at=at(5))
        back = status("p1", ACTIVE, 4, only_from={SubscriberStatus.UNAVAILABLE})
        store.apply_delivery(write(["m"], [back]))
        subscriber = store.get(PAGE, "p1")
        assert subscriber is not None
        assert subscriber.status is SubscriberStatus.UNAVAILABLE

    def test_late_opt_in_does_not_undo_a_newer_token_stop(self, store: SubscriberStore) -> None:
        """A token opt-in from t1 arriving after its stop at t2 > t1 keeps it stopped."""
        store.apply_delivery(write(["stop"], [token("T", 2, TokenStatus.STOPPED)]))
        store.apply_delivery(write(["optin"], [token("T", 1)]))
        subscriber = store.get(PAGE, "p1")
        assert subscriber is not None
        assert [t.status for t in subscriber.tokens] == [TokenStatus.STOPPED]

    def test_stop_keeps_the_token_fields(self, store: SubscriberStore) -> None:
        """A stop changes the stored token's status and keeps its topic."""
        store.apply_delivery(write(["optin"], [token("T", 1)]))
        stop = NotificationToken(
            kind=TokenKind.NOTIFICATION_MESSAGES, token="T", status=TokenStatus.STOPPED
        )
        store.apply_delivery(
            write(["stop"], [EventEffects(tokens=[TokenChange(PAGE, "p1", stop, at(2))])])
        )
        subscriber = store.get(PAGE, "p1")
        assert subscriber is not None
        assert [(t.status, t.topic) for t in subscriber.tokens] == [(TokenStatus.STOPPED, "news")]

    def test_spent_token_keeps_its_time(self, store: SubscriberStore) -> None:
        """set_token_status keeps the token's change time: an older opt-in stays skipped."""
        store.apply_delivery(write(["stop"], [token("T", 2, TokenStatus.STOPPED)]))
        assert store.set_token_status(PAGE, "p1", "T", TokenStatus.USED)
        store.apply_delivery(write(["optin"], [token("T", 1)]))
        subscriber = store.get(PAGE, "p1")
        assert subscriber is not None
        assert [t.status for t in subscriber.tokens] == [TokenStatus.USED]


def test_unstorable_id_rolls_everything_back(store: SubscriberStore) -> None:
    """A PSID the database refuses fails the whole commit: no mark and no record remain."""
    if isinstance(store, MemoryStore):
        pytest.skip("MemoryStore keeps any string")
    bad = EventEffects(records=[EventRecord(PAGE, "p\ud800", T0, interaction=True)])
    with pytest.raises((StoreError, UnicodeEncodeError)):
        store.apply_delivery(write(["a", "b"], [wrote("p1", 0), bad]))
    assert store.get(PAGE, "p1") is None
    assert store.apply_delivery(write(["a"], [NO_EFFECTS])).fresh == (True,)


def test_write_needs_one_effects_per_key() -> None:
    """A DeliveryWrite with fewer effects than keys is refused."""
    with pytest.raises(ValueError, match="one EventEffects per dedup key"):
        write(["a", "b"], [NO_EFFECTS])
