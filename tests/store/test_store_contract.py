"""The contract every SubscriberStore keeps, run against memory, SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from fmc.models.broadcast import JournalEntry, JournalState
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import NotificationToken, SubscriberStatus, TokenKind, TokenStatus
from fmc.store import BroadcastInfo, EventRecord, SubscriberStore

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
PAGE = "page-1"


def at(minutes: float) -> datetime:
    """A time ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def run_threads(count: int, target: Callable[[int], None]) -> None:
    """Run ``target(i)`` in ``count`` threads released together; re-raise the first error."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


class TestSubscribers:
    def test_protocol(self, store: SubscriberStore) -> None:
        """Every backend satisfies the SubscriberStore protocol."""
        assert isinstance(store, SubscriberStore)

    def test_get_unknown(self, store: SubscriberStore) -> None:
        """An unknown PSID is None."""
        assert store.get(PAGE, "nobody") is None

    def test_record_event_creates_active(self, store: SubscriberStore) -> None:
        """A first event creates an ACTIVE subscriber first seen then."""
        store.record_event(PAGE, "u1", at=at(0), interaction=True)
        sub = store.get(PAGE, "u1")
        assert sub is not None
        assert (sub.page_id, sub.psid, sub.status) == (PAGE, "u1", SubscriberStatus.ACTIVE)
        assert sub.first_seen_at == at(0)
        assert sub.last_interaction_at == at(0)
        assert sub.last_human_agent_at is None

    def test_non_interaction_leaves_window_closed(self, store: SubscriberStore) -> None:
        """An event that is not an interaction registers without opening the window."""
        store.record_event(PAGE, "u1", at=at(0), interaction=False)
        sub = store.get(PAGE, "u1")
        assert sub is not None
        assert sub.first_seen_at == at(0)
        assert sub.last_interaction_at is None

    def test_first_seen_never_later(self, store: SubscriberStore) -> None:
        """A later event keeps first_seen_at; an earlier one moves it earlier."""
        store.record_event(PAGE, "u1", at=at(10), interaction=False)
        store.record_event(PAGE, "u1", at=at(20), interaction=False)
        assert store.get(PAGE, "u1").first_seen_at == at(10)  # type: ignore[union-attr]
        store.record_event(PAGE, "u1", at=at(5), interaction=False)
        assert store.get(PAGE, "u1").first_seen_at == at(5)  # type: ignore[union-attr]

    def test_interaction_takes_the_latest(self, store: SubscriberStore) -> None:
        """last_interaction_at only moves later, whatever the arrival order."""
        store.record_event(PAGE, "u1", at=at(30), interaction=True)
        store.record_event(PAGE, "u1", at=at(10), interaction=True)
        assert store.get(PAGE, "u1").last_interaction_at == at(30)  # type: ignore[union-attr]
        store.record_event(PAGE, "u1", at=at(40), interaction=True)
        assert store.get(PAGE, "u1").last_interaction_at == at(40)  # type: ignore[union-attr]

    def test_human_agent_takes_the_latest(self, store: SubscriberStore) -> None:
        """last_human_agent_at only moves later and leaves the interaction alone."""
        store.record_event(PAGE, "u1", at=at(0), interaction=True)
        store.record_event(PAGE, "u1", at=at(20), interaction=False, human_agent=True)
        store.record_event(PAGE, "u1", at=at(10), interaction=False, human_agent=True)
        sub = store.get(PAGE, "u1")
        assert sub is not None
        assert sub.last_human_agent_at == at(20)
        assert sub.last_interaction_at == at(0)

    def test_event_keeps_status(self, store: SubscriberStore) -> None:
        """An event never changes a subscriber's status."""
        store.set_status(PAGE, "u1", SubscriberStatus.BLOCKED, reason="blocked", at=at(0))
        store.record_event(PAGE, "u1", at=at(1), interaction=True)
        sub = store.get(PAGE, "u1")
        assert sub is not None
        assert sub.status is SubscriberStatus.BLOCKED
        assert sub.status_reason == "blocked"

    def test_record_events_batch_merges_repeats(self, store: SubscriberStore) -> None:
        """A batch with repeated PSIDs folds them: earliest first seen, latest interaction."""
        store.record_events(
            [
                EventRecord(PAGE, "u1", at(5), True),
                EventRecord(PAGE, "u2", at(1), False),
                EventRecord(PAGE, "u1", at(2), False),
                EventRecord(PAGE, "u1", at(9), True),
                EventRecord(PAGE, "u1", at(3), False, human_agent=True),
            ]
        )
        u1, u2 = store.get(PAGE, "u1"), store.get(PAGE, "u2")
        assert u1 is not None
        assert u2 is not None
        assert (u1.first_seen_at, u1.last_interaction_at, u1.last_human_agent_at) == (
            at(2),
            at(9),
            at(3),
        )
        assert (u2.first_seen_at, u2.last_interaction_at) == (at(1), None)

    def test_record_events_accepts_a_generator(self, store: SubscriberStore) -> None:
        """record_events consumes any iterable, and an empty one is a no-op."""
        store.record_events(EventRecord(PAGE, f"u{i}", at(i), True) for i in range(3))
        store.record_events([])
        assert store.count(PAGE) == 3

    def test_naive_datetime_rejected(self, store: SubscriberStore) -> None:
        """A naive datetime is a ValueError, and nothing is written."""
        with pytest.raises(ValueError, match="timezone-aware"):
            store.record_event(PAGE, "u1", at=datetime(2025, 1, 1), interaction=True)
        assert store.get(PAGE, "u1") is None

    def test_datetimes_come_back_in_utc(self, store: SubscriberStore) -> None:
        """A datetime in another zone is stored as the same instant and returned in UTC."""
        paris = timezone(timedelta(hours=2))
        store.record_event(
            PAGE, "u1", at=datetime(2025, 6, 1, 14, 0, 0, 123456, paris), interaction=True
        )
        sub = store.get(PAGE, "u1")
        assert sub is not None
        assert sub.first_seen_at is not None
        assert sub.first_seen_at == datetime(2025, 6, 1, 12, 0, 0, 123456, timezone.utc)
        assert sub.first_seen_at.utcoffset() == timedelta(0)

    def test_set_status_creates_missing(self, store: SubscriberStore) -> None:
        """set_status on an unknown PSID creates it, first seen at the given time."""
        store.set_status(PAGE, "u1", SubscriberStatus.OPTED_OUT, reason="STOP", at=at(3))
        sub = store.get(PAGE, "u1")
        assert sub is not None
        assert (sub.status, sub.status_reason, sub.first_seen_at) == (
            SubscriberStatus.OPTED_OUT,
            "STOP",
            at(3),
        )

    def test_set_status_replaces_status_and_reason(self, store: SubscriberStore) -> None:
        """A new status replaces the old one and its reason, and keeps first_seen_at."""
        store.record_event(PAGE, "u1", at=at(0), interaction=True)
        store.set_status(PAGE, "u1", SubscriberStatus.UNAVAILABLE, reason="551", at=at(5))
        store.set_status(PAGE, "u1", SubscriberStatus.ACTIVE, at=at(6))
        sub = store.get(PAGE, "u1")
        assert sub is not None
        assert (sub.status, sub.status_reason, sub.first_seen_at) == (
            SubscriberStatus.ACTIVE,
            None,
            at(0),
        )

    def test_update_profile_keeps_unset_fields(self, store: SubscriberStore) -> None:
        """Profile fields given are stored; None leaves a field unchanged."""
        store.record_event(PAGE, "u1", at=at(0), interaction=True)
        store.update_profile(PAGE, "u1", name="Ada", locale="fr_FR", timezone=2.0)
        store.update_profile(PAGE, "u1", locale="en_GB")
        sub = store.get(PAGE, "u1")
        assert sub is not None
        assert (sub.name, sub.locale, sub.timezone) == ("Ada", "en_GB", 2.0)
        assert sub.first_seen_at == at(0)

    def test_update_profile_creates_missing(self, store: SubscriberStore) -> None:
        """update_profile on an unknown PSID creates an ACTIVE subscriber, no first-seen time."""
        store.update_profile(PAGE, "u1", name="Ada")
        sub = store.get(PAGE, "u1")
        assert sub is not None
        assert (sub.name, sub.status, sub.first_seen_at) == ("Ada", SubscriberStatus.ACTIVE, None)


def _token(value: str, **changes: object) -> NotificationToken:
    fields: dict[str, object] = {
        "kind": TokenKind.NOTIFICATION_MESSAGES,
        "token": value,
        "topic": "news",
        "frequency": "DAILY",
        "expires_at": at(60 * 24),
        "created_at": at(0),
    }
    fields.update(changes)
    return NotificationToken(**fields)  # type: ignore[arg-type]


class TestTokens:
    def test_add_token_round_trips(self, store: SubscriberStore) -> None:
        """A token comes back with every field."""
        store.record_event(PAGE, "u1", at=at(0), interaction=True)
        token = _token("tok-1")
        store.add_token(PAGE, "u1", token)
        assert store.get(PAGE, "u1").tokens == (token,)  # type: ignore[union-attr]

    def test_add_token_replaces_same_string(self, store: SubscriberStore) -> None:
        """Adding a token with a known token string replaces it; others stay."""
        store.add_token(PAGE, "u1", _token("tok-1"))
        store.add_token(PAGE, "u1", _token("tok-2", kind=TokenKind.ONE_TIME, frequency=None))
        newer = _token("tok-1", topic="sports", expires_at=None)
        store.add_token(PAGE, "u1", newer)
        tokens = store.get(PAGE, "u1").tokens  # type: ignore[union-attr]
        assert sorted(t.token for t in tokens) == ["tok-1", "tok-2"]
        assert next(t for t in tokens if t.token == "tok-1") == newer

    def test_set_token_status(self, store: SubscriberStore) -> None:
        """A known token's status changes and True is returned."""
        store.add_token(PAGE, "u1", _token("tok-1"))
        store.add_token(PAGE, "u1", _token("tok-2"))
        assert store.set_token_status(PAGE, "u1", "tok-1", TokenStatus.STOPPED) is True
        tokens = {t.token: t.status for t in store.get(PAGE, "u1").tokens}  # type: ignore[union-attr]
        assert tokens == {"tok-1": TokenStatus.STOPPED, "tok-2": TokenStatus.ACTIVE}

    @pytest.mark.parametrize(
        ("psid", "token"),
        [("u1", "nope"), ("ghost", "tok-1")],
        ids=["unknown-token", "unknown-psid"],
    )
    def test_set_token_status_unknown(self, store: SubscriberStore, psid: str, token: str) -> None:
        """An unknown token or subscriber gives False and creates nothing."""
        store.add_token(PAGE, "u1", _token("tok-1"))
        assert store.set_token_status(PAGE, psid, token, TokenStatus.USED) is False
        assert store.get(PAGE, "ghost") is None


class TestCountAndIterate:
    @pytest.fixture
    def seven(self, store: SubscriberStore) -> SubscriberStore:
        """Seven subscribers of PAGE (two blocked) and one of another Page."""
        psids = ["g", "c", "a", "e", "b", "f", "d"]
        store.record_events(EventRecord(PAGE, p, at(i), True) for i, p in enumerate(psids))
        store.set_status(PAGE, "b", SubscriberStatus.BLOCKED, at=at(9))
        store.set_status(PAGE, "e", SubscriberStatus.BLOCKED, at=at(9))
        store.record_event("page-2", "a", at=at(0), interaction=True)
        return store

    def test_count(self, seven: SubscriberStore) -> None:
        """count counts one Page, optionally by status."""
        assert seven.count(PAGE) == 7
        assert seven.count(PAGE, status=SubscriberStatus.BLOCKED) == 2
        assert seven.count(PAGE, status=SubscriberStatus.OPTED_OUT) == 0
        assert seven.count("page-2") == 1
        assert seven.count("page-3") == 0

    def test_iterate_in_psid_order_by_pages(self, seven: SubscriberStore) -> None:
        """Iteration with page_size=2 yields all seven in PSID order, once each."""
        psids = [s.psid for s in seven.iter_subscribers(PAGE, page_size=2)]
        assert psids == ["a", "b", "c", "d", "e", "f", "g"]

    @pytest.mark.parametrize(
        ("status", "after", "expected"),
        [
            (SubscriberStatus.ACTIVE, None, ["a", "c", "d", "f", "g"]),
            (SubscriberStatus.BLOCKED, None, ["b", "e"]),
            (None, "c", ["d", "e", "f", "g"]),
            (SubscriberStatus.ACTIVE, "d", ["f", "g"]),
            (None, "g", []),
        ],
        ids=["active", "blocked", "after-c", "active-after-d", "after-last"],
    )
    def test_iterate_filters(
        self,
        seven: SubscriberStore,
        status: SubscriberStatus | None,
        after: str | None,
        expected: list[str],
    ) -> None:
        """Status and after_psid filter the stream, still in order across pages."""
        found = seven.iter_subscribers(PAGE, status=status, after_psid=after, page_size=2)
        assert [s.psid for s in found] == expected

    def test_iterate_yields_models_of_one_page(self, seven: SubscriberStore) -> None:
        """Iteration yields full Subscriber models of the requested Page only."""
        subs = list(seven.iter_subscribers("page-2"))
        assert [(s.page_id, s.psid, s.first_seen_at) for s in subs] == [("page-2", "a", at(0))]

    def test_iterate_is_lazy_and_sees_later_pages_fresh(self, seven: SubscriberStore) -> None:
        """Each page is a fresh query: writes while suspended succeed and later pages see them."""
        stream = seven.iter_subscribers(PAGE, page_size=2)
        assert next(stream).psid == "a"
        seven.record_event(PAGE, "zz", at=at(50), interaction=True)
        seven.set_status(PAGE, "a", SubscriberStatus.OPTED_OUT, at=at(50))
        assert [s.psid for s in stream] == ["b", "c", "d", "e", "f", "g", "zz"]

    @pytest.mark.parametrize(
        "read",
        [
            lambda store, size: store.iter_subscribers(PAGE, page_size=size),
            lambda store, size: store.journal_entries("b1", page_size=size),
            lambda store, size: store.registry_accounts(page_size=size),
        ],
        ids=["iter_subscribers", "journal_entries", "registry_accounts"],
    )
    @pytest.mark.parametrize("size", [0, -1])
    def test_paged_reads_reject_empty_pages(self, store: Any, read: Any, size: int) -> None:
        """A page_size below 1 is a ValueError that names the argument and the value."""
        with pytest.raises(ValueError, match=rf"page_size must be at least 1, not {size}"):
            read(store, size)

    def test_psid_order_is_code_point_order(self, store: SubscriberStore) -> None:
        """PSIDs sort by code point, the same in every backend (digits, then upper, then lower)."""
        psids = ["b", "B", "10", "9", "a", "_x"]
        store.record_events(EventRecord(PAGE, p, at(0), True) for p in psids)
        assert [s.psid for s in store.iter_subscribers(PAGE, page_size=4)] == sorted(psids)


class TestDedup:
    def test_first_seen_then_duplicate(self, store: SubscriberStore) -> None:
        """A key is new once, then a duplicate within the window."""
        window = timedelta(hours=1)
        assert store.dedup_check_and_mark("k1", now=at(0), window=window) is False
        assert store.dedup_check_and_mark("k1", now=at(59), window=window) is True
        assert store.dedup_check_and_mark("k2", now=at(59), window=window) is False

    def test_expired_key_is_new_again(self, store: SubscriberStore) -> None:
        """After the window a key counts as new and is marked again."""
        window = timedelta(minutes=10)
        assert store.dedup_check_and_mark("k1", now=at(0), window=window) is False
        assert store.dedup_check_and_mark("k1", now=at(10), window=window) is False
        assert store.dedup_check_and_mark("k1", now=at(15), window=window) is True

    def test_many_keys_with_purges(self, store: SubscriberStore) -> None:
        """Old keys purged along the way do not change any answer."""
        window = timedelta(minutes=1)
        answers = [
            store.dedup_check_and_mark(f"k{i}", now=at(i), window=window) for i in range(1100)
        ]
        assert not any(answers)
        assert store.dedup_check_and_mark("k1099", now=at(1099.5), window=window) is True

    def test_concurrent_marks_admit_one(self, store: SubscriberStore) -> None:
        """Eight threads checking the same key: exactly one sees it as new."""
        results: list[bool] = []

        def check(_: int) -> None:
            results.append(store.dedup_check_and_mark("k", now=at(0), window=timedelta(hours=1)))

        run_threads(8, check)
        assert sorted(results) == [False] + [True] * 7


def _item(key: str, n: int, **changes: object) -> OutboxItem:
    fields: dict[str, object] = {
        "url": f"https://bot.example/hook?n={n}",
        "body": b'{"n": %d}\xff\x00' % n,
        "headers": (("X-Hub-Signature-256", "sha256=ab"), ("Content-Type", "application/json")),
        "order_key": key,
        "created_at": at(n),
    }
    fields.update(changes)
    return OutboxItem(**fields)  # type: ignore[arg-type]


class TestOutbox:
    def test_put_round_trips_bytes(self, store: SubscriberStore) -> None:
        """An item comes back byte for byte with its id and headers."""
        item = _item("s1", 1)
        item_id = store.outbox_put(item)
        (due,) = store.outbox_due(at(1), 10)
        assert due.id == item_id
        assert (due.url, due.body, due.headers, due.order_key, due.created_at) == (
            item.url,
            item.body,
            item.headers,
            "s1",
            at(1),
        )
        assert (due.attempts, due.next_attempt_at, due.last_error) == (0, None, None)

    def test_one_head_per_order_key_oldest_first(self, store: SubscriberStore) -> None:
        """Only the oldest item of each key is due, and heads come oldest first."""
        ids = [
            store.outbox_put(_item(key, n)) for n, key in enumerate(["s1", "s2", "s1", "s3", "s2"])
        ]
        assert ids == sorted(set(ids))
        assert [i.id for i in store.outbox_due(at(10), 10)] == [ids[0], ids[1], ids[3]]
        assert [i.id for i in store.outbox_due(at(10), 2)] == [ids[0], ids[1]]
        store.outbox_ack(ids[0])
        assert [i.id for i in store.outbox_due(at(10), 10)] == [ids[1], ids[2], ids[3]]

    def test_deferred_head_holds_its_key(self, store: SubscriberStore) -> None:
        """A deferred head blocks its successors until next_attempt_at; other keys go on."""
        first = store.outbox_put(_item("s1", 0))
        store.outbox_put(_item("s1", 1))
        other = store.outbox_put(_item("s2", 2))
        store.outbox_defer(first, next_attempt_at=at(30), attempts=1, last_error="HTTP 503")
        assert [i.id for i in store.outbox_due(at(10), 10)] == [other]
        (head, _) = store.outbox_due(at(30), 10)
        assert (head.id, head.attempts, head.last_error, head.next_attempt_at) == (
            first,
            1,
            "HTTP 503",
            at(30),
        )

    def test_count_and_ack(self, store: SubscriberStore) -> None:
        """outbox_count follows puts and acks; acking an unknown id is ignored."""
        ids = [store.outbox_put(_item("s1", n)) for n in range(3)]
        assert store.outbox_count() == 3
        store.outbox_ack(ids[1])
        store.outbox_ack(10_000)
        store.outbox_defer(10_000, next_attempt_at=at(1), attempts=1, last_error="x")
        assert store.outbox_count() == 2


class TestBroadcastJournal:
    def test_begin_is_idempotent(self, store: SubscriberStore) -> None:
        """A second begin with the same id returns the first record unchanged."""
        info = store.broadcast_begin(
            "b1", page_id=PAGE, purpose="news", message='{"text":"hi"}', created_at=at(0)
        )
        assert info == BroadcastInfo("b1", PAGE, "news", '{"text":"hi"}', at(0))
        again = store.broadcast_begin(
            "b1", page_id=PAGE, purpose="promo", message="{}", created_at=at(5)
        )
        assert again == info
        assert store.broadcast_get("b1") == info
        assert store.broadcast_get("b2") is None

    def test_claim_returns_only_new(self, store: SubscriberStore) -> None:
        """Claiming inserts PENDING entries for unclaimed PSIDs and returns just those, in order."""
        assert store.journal_claim("b1", ["c", "a", "c"], at=at(0)) == ["c", "a"]
        assert store.journal_claim("b1", ["a", "b", "c", "d"], at=at(1)) == ["b", "d"]
        assert store.journal_claim("b2", ["a"], at=at(1)) == ["a"]
        assert store.journal_claim("b1", [], at=at(1)) == []
        assert store.journal_states("b1", ["a", "b", "x"]) == {
            "a": JournalState.PENDING,
            "b": JournalState.PENDING,
        }

    def test_claim_exactly_once_under_threads(self, store: SubscriberStore) -> None:
        """Eight threads racing to claim the same 200 PSIDs claim each exactly once."""
        psids = [f"p{i:03d}" for i in range(200)]
        claimed: list[list[str]] = [[] for _ in range(8)]

        def claim(i: int) -> None:
            mine = psids[:]
            random.Random(i).shuffle(mine)
            for start in range(0, len(mine), 25):
                claimed[i].extend(store.journal_claim("b1", mine[start : start + 25], at=at(0)))

        run_threads(8, claim)
        everything = [p for part in claimed for p in part]
        assert sorted(everything) == psids

    def test_reclaim_moves_only_given_states(self, store: SubscriberStore) -> None:
        """Reclaim moves entries in from_states back to PENDING, once."""
        store.journal_claim("b1", ["a", "b", "c"], at=at(0))
        store.journal_record(
            [
                JournalEntry("b1", "a", JournalState.RETRYABLE, None, "RateLimitError", at(1)),
                JournalEntry("b1", "b", JournalState.SENT, "m.1", None, at(1)),
                JournalEntry("b1", "c", JournalState.SKIPPED, None, "outside window", at(1)),
            ]
        )
        from_states = {JournalState.RETRYABLE, JournalState.SKIPPED}
        assert store.journal_reclaim(
            "b1", ["c", "b", "a", "z"], from_states=from_states, at=at(2)
        ) == ["c", "a"]
        assert store.journal_reclaim("b1", ["a", "c"], from_states=from_states, at=at(3)) == []
        assert store.journal_reclaim("b1", ["a"], from_states=[], at=at(3)) == []
        (entry,) = [e for e in store.journal_entries("b1") if e.psid == "a"]
        assert (entry.state, entry.message_id, entry.detail, entry.updated_at) == (
            JournalState.PENDING,
            None,
            None,
            at(2),
        )

    def test_record_upserts(self, store: SubscriberStore) -> None:
        """journal_record replaces claimed entries and inserts unclaimed ones."""
        store.journal_claim("b1", ["a"], at=at(0))
        store.journal_record(
            [
                JournalEntry("b1", "a", JournalState.SENT, "m.1", None, at(1)),
                JournalEntry(
                    "b1", "b", JournalState.FAILED, None, "InvalidRequestError: bad", at(1)
                ),
            ]
        )
        store.journal_record([])
        assert list(store.journal_entries("b1")) == [
            JournalEntry("b1", "a", JournalState.SENT, "m.1", None, at(1)),
            JournalEntry("b1", "b", JournalState.FAILED, None, "InvalidRequestError: bad", at(1)),
        ]

    def test_entries_paginate_and_filter(self, store: SubscriberStore) -> None:
        """journal_entries streams in PSID order across pages, optionally by state."""
        psids = ["e", "a", "d", "b", "c", "g", "f"]
        store.journal_claim("b1", psids, at=at(0))
        store.journal_claim("b2", ["a"], at=at(0))
        store.journal_record(
            [
                JournalEntry("b1", p, JournalState.SENT, f"m.{p}", None, at(1))
                for p in ["b", "d", "g"]
            ]
        )
        assert [e.psid for e in store.journal_entries("b1", page_size=2)] == sorted(psids)
        sent = store.journal_entries("b1", states=[JournalState.SENT], page_size=2)
        assert [(e.psid, e.message_id) for e in sent] == [("b", "m.b"), ("d", "m.d"), ("g", "m.g")]
        assert list(store.journal_entries("b1", states=[])) == []

    def test_counts_every_state(self, store: SubscriberStore) -> None:
        """journal_counts has every state as a key, zero when absent."""
        store.journal_claim("b1", ["a", "b", "c"], at=at(0))
        store.journal_record([JournalEntry("b1", "a", JournalState.AMBIGUOUS, None, "drop", at(1))])
        counts = store.journal_counts("b1")
        assert counts == {
            JournalState.PENDING: 2,
            JournalState.SENDING: 0,
            JournalState.SENT: 0,
            JournalState.SKIPPED: 0,
            JournalState.FAILED: 0,
            JournalState.RETRYABLE: 0,
            JournalState.AMBIGUOUS: 1,
        }
        assert sum(store.journal_counts("unknown").values()) == 0


class TestLifecycle:
    def test_context_manager_returns_store(self, make_store: Callable[[], SubscriberStore]) -> None:
        """The store is its own context manager and stays readable by a new instance after close."""
        with make_store() as store:
            store.record_event(PAGE, "u1", at=at(0), interaction=True)
        reopened = make_store()
        assert reopened.get(PAGE, "u1") is not None
