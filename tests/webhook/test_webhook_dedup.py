"""Dedup keys and the bounded in-memory dedup store."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from webhook_support import fixture_bytes

from fmc.errors import ConfigurationError
from fmc.webhook import DedupStore, MemoryDedup, dedup_key, parse_events

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
WINDOW = timedelta(hours=1)


class TestMemoryDedup:
    def test_first_time_not_duplicate(self) -> None:
        """A new key is not a duplicate, and is marked."""
        store = MemoryDedup()
        assert store.dedup_check_and_mark("k", now=NOW, window=WINDOW) is False
        assert store.dedup_check_and_mark("k", now=NOW, window=WINDOW) is True

    def test_window_boundary(self) -> None:
        """A mark counts strictly within the window, not at or after its end."""
        store = MemoryDedup()
        store.dedup_check_and_mark("k", now=NOW, window=WINDOW)
        assert store.dedup_check_and_mark(
            "k", now=NOW + WINDOW - timedelta(seconds=1), window=WINDOW
        )
        assert not store.dedup_check_and_mark("k", now=NOW + 2 * WINDOW, window=WINDOW)

    def test_expired_key_is_marked_again(self) -> None:
        """An expired key, seen again, starts a new window."""
        store = MemoryDedup()
        store.dedup_check_and_mark("k", now=NOW, window=WINDOW)
        later = NOW + 2 * WINDOW
        store.dedup_check_and_mark("k", now=later, window=WINDOW)
        assert store.dedup_check_and_mark("k", now=later + timedelta(minutes=1), window=WINDOW)

    def test_bounded(self) -> None:
        """Beyond max_keys the oldest marks are forgotten."""
        store = MemoryDedup(max_keys=3)
        for key in "abcd":
            store.dedup_check_and_mark(key, now=NOW, window=WINDOW)
        assert len(store) == 3
        assert store.dedup_check_and_mark("a", now=NOW, window=WINDOW) is False
        assert store.dedup_check_and_mark("d", now=NOW, window=WINDOW) is True

    def test_thread_safe(self) -> None:
        """Concurrent checks of one key report exactly one first sighting."""
        store = MemoryDedup()
        results: list[bool] = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def check() -> None:
            barrier.wait()
            for i in range(200):
                outcome = store.dedup_check_and_mark(f"k{i}", now=NOW, window=WINDOW)
                with lock:
                    results.append(outcome)

        threads = [threading.Thread(target=check) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results.count(False) == 200

    def test_is_a_dedup_store(self) -> None:
        """MemoryDedup satisfies the DedupStore protocol."""
        assert isinstance(MemoryDedup(), DedupStore)

    def test_max_keys_positive(self) -> None:
        """max_keys must be at least 1."""
        with pytest.raises(ConfigurationError):
            MemoryDedup(0)


def key_of(name: str) -> str | None:
    """The dedup key of a fixture's single event."""
    (event,) = parse_events(fixture_bytes(name))
    return dedup_key(event)


class TestKeys:
    @pytest.mark.parametrize(
        ("name", "key"),
        [
            ("message_text", "mid:m_1457764197618:41d102a3e1ae206a38"),
            ("echo", "mid:m_echo1"),
            ("postback", "mid:m_postback1"),
            ("standby_message", "s:mid:m_standby1"),
            ("read", "message_reads:106437718793432:6514567891234567:1717171716999"),
            (
                "reaction",
                "message_reactions:106437718793432:6514567891234567:1717171716999:react:m_reacted1",
            ),
            (
                "policy_enforcement",
                "messaging_policy_enforcement:106437718793432:None:1717171716999",
            ),
        ],
        ids=["message", "echo", "postback", "standby", "read", "reaction", "no-sender"],
    )
    def test_key_table(self, name: str, key: str) -> None:
        """Events with a mid key on it; others on kind, page, sender and timestamp."""
        assert key_of(name) == key

    def test_edits_keyed_by_count(self) -> None:
        """Each edit of a message is its own event."""
        assert key_of("message_edit") == (
            "message_edits:106437718793432:6514567891234567:1717171716999:m_edited1:1"
        )

    def test_react_and_unreact_differ(self) -> None:
        """A reaction and its removal on the same message are different events."""
        assert key_of("reaction") != key_of("unreaction")

    def test_unknown_events_keyed_by_content(self) -> None:
        """Unknown events are keyed by a hash of their content, stable across parses."""
        key = key_of("unknown_kind")
        assert key is not None
        assert key.startswith("unknown:")
        assert key == key_of("unknown_kind")
