"""broadcast_parts: the per-Page parts of a distributed broadcast, on every backend."""

from __future__ import annotations

from datetime import datetime, timezone

from fmc.store import SubscriberStore

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def begin(store: SubscriberStore, broadcast_id: str, page_id: str = "1") -> None:
    store.broadcast_begin(
        broadcast_id, page_id=page_id, purpose="news", message="{}", created_at=NOW
    )


def test_parts_are_the_broadcasts_under_the_id_and_a_dot_in_id_order(
    store: SubscriberStore,
) -> None:
    for bid, page in [("bc.2", "2"), ("bc.1", "1"), ("bc", "1"), ("bcx.1", "1"), ("BC.3", "3")]:
        begin(store, bid, page)
    assert [p.broadcast_id for p in store.broadcast_parts("bc")] == ["bc.1", "bc.2"]


def test_like_wildcards_in_an_id_match_only_themselves(store: SubscriberStore) -> None:
    for bid in ["a_b.1", "axb.1", "a%b.1", "azzb.1"]:
        begin(store, bid)
    assert [p.broadcast_id for p in store.broadcast_parts("a_b")] == ["a_b.1"]
    assert [p.broadcast_id for p in store.broadcast_parts("a%b")] == ["a%b.1"]


def test_a_broadcast_without_parts_has_none(store: SubscriberStore) -> None:
    begin(store, "solo")
    assert store.broadcast_parts("solo") == []
