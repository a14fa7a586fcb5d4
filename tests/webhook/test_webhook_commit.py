"""Acknowledge only what is safe: 200 after the delivery's commit, 503 without it."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from webhook_support import APP_SECRET, VERIFY_TOKEN, delivery, signed_headers, text_item

import fmc
from fmc.channel import Registrar
from fmc.errors import ConfigurationError, StoreError
from fmc.store import MemoryStore, SQLiteStore
from fmc.store.delivery import DeliveryResult, DeliveryWrite
from fmc.webhook import Event, InvalidEvent, MemoryDedup, MessageEvent, WebhookHandler
from fmc.webhook.forward import Forwarder

PAGE = "106437718793432"


def post(handler: WebhookHandler, body: bytes, query: dict[str, str] | None = None) -> int:
    """POST a signed body; return the status."""
    return handler.respond("POST", query or {}, signed_headers(body), body).status


def channel(store: Any, **options: Any) -> fmc.Channel:
    """A Channel for the fixtures' Page on ``store``."""
    page = fmc.Page(PAGE, "EAAGtestPageToken0123456789abcdef", app_secret=APP_SECRET)
    client = fmc.Client(page, base_url="http://127.0.0.1:9")
    policy = fmc.MessagingPolicy(permissions={"pages_messaging"})
    return fmc.Channel(
        page, client=client, store=store, policy=policy, verify_token=VERIFY_TOKEN, **options
    )


class Failing(MemoryStore):
    """A store whose delivery commits fail ``failures`` times, then work."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def apply_delivery(self, write: DeliveryWrite, *, timeout: float | None = None) -> Any:
        if self.failures:
            self.failures -= 1
            raise StoreError("PostgreSQL could not connect")
        return super().apply_delivery(write, timeout=timeout)


class Recording(MemoryStore):
    """A store that records the writes and timeouts it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[DeliveryWrite, float | None]] = []

    def apply_delivery(
        self, write: DeliveryWrite, *, timeout: float | None = None
    ) -> DeliveryResult:
        self.writes.append((write, timeout))
        return super().apply_delivery(write, timeout=timeout)


class TestAcknowledgement:
    def test_store_failure_answers_503_and_dispatches_nothing(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A commit that fails is answered 503, logged, and no callback runs."""
        handler = channel(Failing(1)).webhook
        seen: list[Event] = []
        handler.on_any(seen.append)
        with caplog.at_level(logging.ERROR, logger="fmc.webhook"):
            assert post(handler, delivery(text_item("m1"))) == 503
        assert seen == []
        assert "not acknowledged (503" in caplog.text
        assert "could not connect" in caplog.text

    def test_redelivery_after_503_registers_and_dispatches(self) -> None:
        """After a 503 nothing was marked: Meta's redelivery registers and dispatches."""
        store = Failing(1)
        handler = channel(store).webhook
        seen: list[Event] = []
        handler.on_any(seen.append)
        body = delivery(text_item("m1", sender="p1"))
        assert [post(handler, body), post(handler, body)] == [503, 200]
        assert len(seen) == 1
        assert store.get(PAGE, "p1") is not None

    def test_registration_is_in_the_store_before_callbacks(self) -> None:
        """Per-event callbacks see the sender already registered."""
        store = MemoryStore()
        handler = channel(store).webhook
        found: list[object] = []
        handler.on(MessageEvent, lambda e: found.append(store.get(PAGE, e.sender_id)))
        assert post(handler, delivery(text_item("m1", sender="p1"))) == 200
        assert found != [None]

    def test_commit_timeout_reaches_the_store(self) -> None:
        """The handler's commit_timeout bounds the store's commit."""
        store = Recording()
        handler = WebhookHandler(APP_SECRET, VERIFY_TOKEN, dedup=store, commit_timeout=1.5)
        post(handler, delivery(text_item("m1")))
        ((write, timeout),) = store.writes
        assert (write.keys, timeout) == (("mid:m1",), 1.5)

    def test_effects_need_an_fmc_store(self) -> None:
        """Effects with a plain dedup store are a configuration error."""
        with pytest.raises(ConfigurationError, match="apply_delivery"):
            WebhookHandler(APP_SECRET, VERIFY_TOKEN, dedup=MemoryDedup(), effects=lambda e: None)  # type: ignore[arg-type,return-value]

    @pytest.mark.parametrize("timeout", [0, -1.0], ids=["zero", "negative"])
    def test_commit_timeout_must_be_positive(self, timeout: float) -> None:
        """A commit timeout that is not positive is refused."""
        with pytest.raises(ConfigurationError, match="commit_timeout"):
            WebhookHandler(APP_SECRET, VERIFY_TOKEN, commit_timeout=timeout)

    def test_outbox_item_commits_with_the_delivery(self) -> None:
        """With persist_first into the same store, the outbox item is part of the one write."""
        store = Recording()
        with Forwarder(["bot.test"], outbox=store, persist_first=True, drain_interval=3600) as fw:
            handler = channel(store, forwarder=fw).webhook
            body = delivery(text_item("m1"))
            assert post(handler, body, {"redirect_to": "https://bot.test/hook"}) == 200
        ((write, _),) = store.writes
        assert write.outbox is not None
        assert write.outbox.body == body

    def test_refused_address_is_not_kept(self) -> None:
        """A redirect_to the forwarder refuses is not put in the outbox."""
        store = Recording()
        with Forwarder(["bot.test"], outbox=store, persist_first=True, drain_interval=3600) as fw:
            handler = channel(store, forwarder=fw).webhook
            assert (
                post(handler, delivery(text_item("m1")), {"redirect_to": "https://x.test/"}) == 200
            )
        ((write, _),) = store.writes
        assert write.outbox is None
        assert store.outbox_count() == 0


class TestIsolation:
    @pytest.mark.parametrize("odd", ["p\ud800", "p\x00"], ids=["lone-surrogate", "nul"])
    def test_odd_middle_event_costs_no_neighbour(self, tmp_path: Path, odd: str) -> None:
        """A middle sender id that cannot be stored becomes InvalidEvent; the others register."""
        with SQLiteStore(tmp_path / "fmc.db") as store:
            handler = channel(store).webhook
            invalid: list[InvalidEvent] = []
            handler.on(InvalidEvent, invalid.append)
            items = [text_item("m1", sender="p1"), text_item("m2", sender=odd)]
            items.append(text_item("m3", sender="p3"))
            body = json.dumps(
                {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": items}]}
            ).encode()
            assert post(handler, body) == 200
            assert store.get(PAGE, "p1") is not None
            assert store.get(PAGE, "p3") is not None
            (event,) = invalid
            assert event.event_kind == "messages"
            assert event.reason.startswith("sender_id holds")

    def test_handle_returns_invalid_events_too(self) -> None:
        """handle() gives the same typed invalid event."""
        handler = WebhookHandler(APP_SECRET, VERIFY_TOKEN)
        body = delivery(text_item("m\ud800"))
        (event,) = handler.handle(body, signed_headers(body))
        assert isinstance(event, InvalidEvent)
        assert event.reason == "mid holds a lone surrogate"


class TestNewerWins:
    def test_late_start_cannot_undo_a_newer_stop(self) -> None:
        """A "start" from t1 arriving after a "stop" at t2 > t1 leaves the person opted out."""
        store = MemoryStore()
        handler = channel(store).webhook
        stop = text_item("m2", "stop", sender="p1")
        start = text_item("m1", "start", sender="p1")
        start["timestamp"] = stop["timestamp"] - 60_000
        assert post(handler, delivery(stop)) == 200
        assert post(handler, delivery(start)) == 200
        subscriber = store.get(PAGE, "p1")
        assert subscriber is not None
        assert subscriber.status is fmc.SubscriberStatus.OPTED_OUT

    def test_redelivered_old_start_after_window(self) -> None:
        """Even once its dedup mark expired, a redelivered old "start" changes nothing."""
        store = MemoryStore()
        now = [datetime(2025, 1, 1, tzinfo=timezone.utc)]
        registrar = Registrar(
            page_id=PAGE,
            store=store,
            clock=lambda: now[0],
            stop_keywords=["stop"],
            start_keywords=["start"],
        )
        handler = WebhookHandler(
            APP_SECRET,
            VERIFY_TOKEN,
            dedup=store,
            effects=registrar.effects,
            clock=lambda: now[0],
            dedup_window=timedelta(minutes=5),
        )
        start = text_item("m1", "start", sender="p1")
        stop = text_item("m2", "stop", sender="p1")
        stop["timestamp"] = start["timestamp"] + 60_000
        for item in (start, stop, start):
            assert post(handler, delivery(item)) == 200
            now[0] += timedelta(minutes=10)
        subscriber = store.get(PAGE, "p1")
        assert subscriber is not None
        assert subscriber.status is fmc.SubscriberStatus.OPTED_OUT
