"""Forwarding to redirect_to: byte equality on loopback, retries, the outbox, order and refusals."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from webhook_support import (
    APP_SECRET,
    VERIFY_TOKEN,
    Receiver,
    delivery,
    fixture_bytes,
    signed_headers,
    start_receiver,
    text_item,
)

from fmc.errors import ConfigurationError
from fmc.models.outbox import OutboxItem
from fmc.webhook import (
    Forwarder,
    ForwardRetry,
    MemoryOutbox,
    OutboxStore,
    WebhookHandler,
    verify_signature,
)

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A settable clock starting at T0."""
    return Clock()


@pytest.fixture
def sleeps() -> list[float]:
    """Records the forwarder's retry sleeps instead of sleeping."""
    return []


@pytest.fixture
def make_forwarder(clock: Clock, sleeps: list[float]) -> Iterator[Any]:
    """Builds loopback-allowed forwarders with fake sleep and clock, closing them afterwards.

    They are started unless ``start=False`` is passed.
    """
    made: list[Forwarder] = []

    def make(*, start: bool = True, **kwargs: Any) -> Forwarder:
        options: dict[str, Any] = {
            "allow_hosts": ["127.0.0.1", "receiver.test"],
            "allow_private": True,
            "clock": clock,
            "sleep": sleeps.append,
            "drain_interval": 3600,
            "timeout": (2.0, 5.0),
            "retry": ForwardRetry(attempts=3, wait_initial=0.1, wait_max=0.4, wait_jitter=0),
        }
        options.update(kwargs)
        forwarder = Forwarder(**options)
        made.append(forwarder)
        if start:
            forwarder.start()
        return forwarder

    yield make
    for forwarder in made:
        forwarder.close(timeout=5)


def handler_with(forwarder: Forwarder) -> WebhookHandler:
    """A handler that forwards through the given forwarder."""
    return WebhookHandler(APP_SECRET, VERIFY_TOKEN, forwarder=forwarder)


def post(handler: WebhookHandler, body: bytes, url: str | None) -> int:
    """POST a signed body with redirect_to=url; return the status."""
    query = {} if url is None else {"redirect_to": url}
    return handler.respond("POST", query, signed_headers(body), body).status


class TestByteEquality:
    def test_forwarded_byte_for_byte(self, receiver: Receiver, make_forwarder: Any) -> None:
        """The receiver gets the raw body, the original signature and content type, unchanged."""
        forwarder = make_forwarder()
        body = fixture_bytes("message_non_ascii")
        url = receiver.url("/bot/hook?tenant=7")
        assert post(handler_with(forwarder), body, url) == 200
        assert forwarder.flush(5)
        (got,) = receiver.received
        assert got.body == body
        assert got.path == "/bot/hook?tenant=7"
        assert got.headers["X-Hub-Signature-256"] == signed_headers(body)["X-Hub-Signature-256"]
        assert got.headers["Content-Type"] == "application/json"
        verify_signature(got.body, got.headers["X-Hub-Signature-256"], APP_SECRET)

    def test_legacy_header_forwarded_too(self, receiver: Receiver, make_forwarder: Any) -> None:
        """An X-Hub-Signature header that came with the delivery is forwarded as well."""
        forwarder = make_forwarder()
        body = fixture_bytes("message_text")
        headers = {**signed_headers(body), "X-Hub-Signature": "sha1=" + "a" * 40}
        handler_with(forwarder).respond("POST", {"redirect_to": receiver.url()}, headers, body)
        assert forwarder.flush(5)
        assert receiver.received[0].headers["X-Hub-Signature"] == "sha1=" + "a" * 40

    def test_connection_pinned_to_checked_address(
        self, receiver: Receiver, make_forwarder: Any
    ) -> None:
        """A host name is connected through the address that was checked, with its Host header."""
        forwarder = make_forwarder(resolver=lambda host, port: ["127.0.0.1"])
        url = f"http://receiver.test:{receiver.port}/hook"
        post(handler_with(forwarder), fixture_bytes("message_text"), url)
        assert forwarder.flush(5)
        assert receiver.received[0].headers["Host"] == f"receiver.test:{receiver.port}"

    def test_answer_does_not_wait_for_the_receiver(
        self, receiver: Receiver, make_forwarder: Any
    ) -> None:
        """The 200 is answered while the receiver is still holding the forward."""
        forwarder = make_forwarder()
        receiver.gate.clear()
        try:
            assert (
                post(handler_with(forwarder), fixture_bytes("message_text"), receiver.url()) == 200
            )
            assert receiver.received == []
            assert receiver.arrived.wait(5)
        finally:
            receiver.gate.set()
        assert forwarder.flush(5)
        assert len(receiver.received) == 1

    def test_no_redirect_to_no_forward(self, receiver: Receiver, make_forwarder: Any) -> None:
        """Without redirect_to nothing is forwarded."""
        forwarder = make_forwarder()
        post(handler_with(forwarder), fixture_bytes("message_text"), None)
        assert forwarder.flush(5)
        assert receiver.received == []

    def test_repeated_redirect_to_not_forwarded(
        self, receiver: Receiver, make_forwarder: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Two redirect_to values are ambiguous: nothing is forwarded, and it is logged."""
        forwarder = make_forwarder()
        body = fixture_bytes("message_text")
        query = {"redirect_to": [receiver.url(), receiver.url("/other")]}
        with caplog.at_level(logging.WARNING):
            handler_with(forwarder).respond("POST", query, signed_headers(body), body)
        assert forwarder.flush(5)
        assert receiver.received == []
        assert "repeated" in caplog.text

    def test_bad_signature_not_forwarded(self, receiver: Receiver, make_forwarder: Any) -> None:
        """A delivery with a wrong signature is never forwarded."""
        forwarder = make_forwarder()
        body = fixture_bytes("message_text")
        handler = handler_with(forwarder)
        status = handler.respond(
            "POST",
            {"redirect_to": receiver.url()},
            {"X-Hub-Signature-256": "sha256=" + "0" * 64},
            body,
        ).status
        assert status == 403
        assert forwarder.flush(5)
        assert receiver.received == []

    def test_redelivery_not_forwarded_twice(self, receiver: Receiver, make_forwarder: Any) -> None:
        """A delivery whose events were all seen already is not forwarded again."""
        forwarder = make_forwarder()
        handler = handler_with(forwarder)
        body = fixture_bytes("message_text")
        post(handler, body, receiver.url())
        post(handler, body, receiver.url())
        assert forwarder.flush(5)
        assert len(receiver.received) == 1


class TestRetriesAndOutbox:
    def test_retries_then_outbox_then_drain(
        self, receiver: Receiver, make_forwarder: Any, clock: Clock, sleeps: list[float]
    ) -> None:
        """5xx is retried, then kept in the outbox, then delivered by a later drain."""
        outbox = MemoryOutbox()
        forwarder = make_forwarder(outbox=outbox)
        receiver.statuses = [503, 502, 500]
        body = fixture_bytes("message_text")
        post(handler_with(forwarder), body, receiver.url())
        assert forwarder.flush(5)
        assert len(receiver.received) == 3
        assert len(sleeps) == 2
        assert outbox.outbox_count() == 1
        assert forwarder.drain() == 0  # not due yet
        clock.now += timedelta(minutes=5)
        assert forwarder.drain() == 1
        assert outbox.outbox_count() == 0
        assert [r.body for r in receiver.received] == [body] * 4

    @pytest.mark.parametrize("status", [429, 408, 503], ids=["429", "408", "503"])
    def test_retryable_statuses(self, receiver: Receiver, make_forwarder: Any, status: int) -> None:
        """429, 408 and 5xx are retried and then succeed."""
        forwarder = make_forwarder()
        receiver.statuses = [status]
        post(handler_with(forwarder), fixture_bytes("message_text"), receiver.url())
        assert forwarder.flush(5)
        assert len(receiver.received) == 2
        assert forwarder.outbox.outbox_count() == 0

    @pytest.mark.parametrize("status", [400, 404, 410], ids=["400", "404", "410"])
    def test_permanent_failure_given_up_and_logged(
        self, receiver: Receiver, make_forwarder: Any, status: int, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Other 4xx answers are not retried; the give-up is logged."""
        forwarder = make_forwarder()
        receiver.statuses = [status]
        with caplog.at_level(logging.ERROR, logger="fmc.webhook.forward"):
            post(
                handler_with(forwarder),
                fixture_bytes("message_text"),
                receiver.url("/hook?secret=s3"),
            )
            assert forwarder.flush(5)
        assert len(receiver.received) == 1
        assert forwarder.outbox.outbox_count() == 0
        assert f"answered {status}" in caplog.text
        assert "s3" not in caplog.text

    def test_redirect_not_followed(
        self, receiver: Receiver, make_forwarder: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A redirect answer is not followed (no request to its Location) and is logged."""
        forwarder = make_forwarder()
        receiver.statuses = [302]
        receiver.extra_headers = {"Location": receiver.url("/elsewhere")}
        with caplog.at_level(logging.ERROR, logger="fmc.webhook.forward"):
            post(handler_with(forwarder), fixture_bytes("message_text"), receiver.url())
            assert forwarder.flush(5)
        assert [r.path for r in receiver.received] == ["/hook"]
        assert "redirect" in caplog.text

    def test_connection_refused_goes_to_outbox(
        self, make_forwarder: Any, sleeps: list[float]
    ) -> None:
        """A receiver that is down is retried, then kept in the outbox."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        forwarder = make_forwarder()
        post(
            handler_with(forwarder), fixture_bytes("message_text"), f"http://127.0.0.1:{port}/hook"
        )
        assert forwarder.flush(5)
        assert len(sleeps) == 2
        (item,) = forwarder.outbox.outbox_due(T0 + timedelta(days=1), 10)
        assert item.attempts == 3
        assert item.last_error is not None
        assert "ConnectionError" in item.last_error

    def test_order_kept_behind_waiting_items(
        self, receiver: Receiver, make_forwarder: Any, clock: Clock
    ) -> None:
        """While a sender has a delivery in the outbox, its later ones wait behind it, in order."""
        forwarder = make_forwarder()
        handler = handler_with(forwarder)
        receiver.statuses = [503, 503, 503]
        bodies = [delivery(text_item(f"m{i}")) for i in range(4)]
        for body in bodies:
            post(handler, body, receiver.url())
        assert forwarder.flush(5)
        assert forwarder.outbox.outbox_count() == 4
        clock.now += timedelta(hours=2)
        assert forwarder.drain() == 4
        assert [r.body for r in receiver.received[3:]] == bodies

    def test_other_senders_not_held_up(self, receiver: Receiver, make_forwarder: Any) -> None:
        """A sender with a waiting delivery does not hold up another sender's."""
        forwarder = make_forwarder()
        handler = handler_with(forwarder)
        receiver.statuses = [503, 503, 503]
        post(handler, delivery(text_item("m1", sender="111")), receiver.url())
        assert forwarder.flush(5)
        post(handler, delivery(text_item("m2", sender="222")), receiver.url())
        assert forwarder.flush(5)
        assert forwarder.outbox.outbox_count() == 1
        assert b'"m2"' in receiver.received[-1].body

    def test_give_up_after(
        self,
        receiver: Receiver,
        make_forwarder: Any,
        clock: Clock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """An item still failing after give_up_after is abandoned and logged."""
        forwarder = make_forwarder(retry=ForwardRetry(attempts=1, give_up_after=timedelta(hours=1)))
        receiver.statuses = [503, 503]
        post(handler_with(forwarder), fixture_bytes("message_text"), receiver.url())
        assert forwarder.flush(5)
        clock.now += timedelta(hours=2)
        with caplog.at_level(logging.ERROR, logger="fmc.webhook.forward"):
            assert forwarder.drain() == 0
        assert forwarder.outbox.outbox_count() == 0
        assert "given up" in caplog.text

    def test_refused_url_logged_and_dropped(
        self, receiver: Receiver, make_forwarder: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A refused redirect_to sends nothing, keeps nothing, and logs the reason."""
        forwarder = make_forwarder(allow_private=False)
        with caplog.at_level(logging.WARNING, logger="fmc.webhook.forward"):
            assert (
                post(handler_with(forwarder), fixture_bytes("message_text"), receiver.url()) == 200
            )
            assert forwarder.flush(5)
        assert receiver.received == []
        assert forwarder.outbox.outbox_count() == 0
        assert "refused" in caplog.text
        assert "scheme" in caplog.text

    def test_restart_keeps_order_behind_durable_items(
        self, receiver: Receiver, make_forwarder: Any, clock: Clock
    ) -> None:
        """After a restart, a key with items already in the outbox keeps queueing behind them."""
        outbox = MemoryOutbox()
        key = "6514567891234567|" + receiver.url()
        outbox.outbox_put(
            OutboxItem(
                url=receiver.url(),
                body=b"old",
                headers=(),
                order_key=key,
                created_at=T0,
                next_attempt_at=T0 + timedelta(minutes=10),
            )
        )
        forwarder = make_forwarder(outbox=outbox)
        post(handler_with(forwarder), delivery(text_item("m1")), receiver.url())
        assert forwarder.flush(5)
        assert receiver.received == []
        clock.now += timedelta(minutes=11)
        assert forwarder.drain() == 2
        assert receiver.received[0].body == b"old"

    def test_restart_order_kept_when_first_submit_starts_it(
        self, receiver: Receiver, make_forwarder: Any, clock: Clock
    ) -> None:
        """A forwarder started by its first submit still queues behind items already waiting."""
        outbox = MemoryOutbox()
        key = "6514567891234567|" + receiver.url()
        outbox.outbox_put(
            OutboxItem(
                url=receiver.url(),
                body=b"old",
                headers=(),
                order_key=key,
                created_at=T0,
                next_attempt_at=T0 + timedelta(minutes=10),
            )
        )
        forwarder = make_forwarder(outbox=outbox, start=False)
        with pytest.warns(DeprecationWarning, match="start"):
            post(handler_with(forwarder), delivery(text_item("m1")), receiver.url())
        assert forwarder.flush(5)
        assert receiver.received == []
        clock.now += timedelta(minutes=11)
        assert forwarder.drain() == 2
        assert receiver.received[0].body == b"old"


def forward_threads() -> list[str]:
    """The names of the forwarder threads alive in this process."""
    return [t.name for t in threading.enumerate() if t.name.startswith("fmc-forward")]


class TestStart:
    def test_constructing_starts_no_thread(self) -> None:
        """A new forwarder starts no thread until it is started."""
        before = forward_threads()
        forwarder = Forwarder(["example.com"], workers=3)
        assert forward_threads() == before
        assert not forwarder.started
        forwarder.close()

    def test_start_starts_the_workers_and_the_drain(self) -> None:
        """start() starts one thread per worker and one drain thread; close() ends them."""
        before = len(forward_threads())
        forwarder = Forwarder(["example.com"], workers=3, drain_interval=3600)
        forwarder.start()
        assert forwarder.started
        assert len(forward_threads()) == before + 4
        forwarder.close(timeout=5)
        assert not forwarder.started
        assert len(forward_threads()) == before

    def test_first_submit_on_unstarted_forwarder_warns_and_forwards(
        self, receiver: Receiver, make_forwarder: Any
    ) -> None:
        """submit() on a forwarder never started warns (deprecated) and still forwards."""
        forwarder = make_forwarder(start=False)
        with pytest.warns(DeprecationWarning, match=r"forwarder\.start\(\)"):
            forwarder.submit(receiver.url(), b"{}", [], order_key="k")
        assert forwarder.flush(5)
        assert [got.body for got in receiver.received] == [b"{}"]

    def test_submit_on_started_forwarder_does_not_warn(
        self, receiver: Receiver, make_forwarder: Any
    ) -> None:
        """A started forwarder takes deliveries without any warning."""
        forwarder = make_forwarder()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            forwarder.submit(receiver.url(), b"{}", [], order_key="k")
        assert forwarder.flush(5)


class TestLifecycle:
    def test_persist_first(self, receiver: Receiver, make_forwarder: Any) -> None:
        """With persist_first the delivery is stored before sending and removed once delivered."""
        puts: list[OutboxItem] = []

        class Spy(MemoryOutbox):
            def outbox_put(self, item: OutboxItem) -> int:
                puts.append(item)
                return super().outbox_put(item)

        forwarder = make_forwarder(outbox=Spy(), persist_first=True)
        post(handler_with(forwarder), fixture_bytes("message_text"), receiver.url())
        assert forwarder.flush(5)
        assert len(puts) == 1
        assert forwarder.outbox.outbox_count() == 0
        assert len(receiver.received) == 1

    def test_persist_first_failure_deferred_once(
        self, receiver: Receiver, make_forwarder: Any
    ) -> None:
        """With persist_first a failed delivery is deferred in place, not stored twice."""
        forwarder = make_forwarder(persist_first=True)
        receiver.statuses = [503, 503, 503]
        post(handler_with(forwarder), fixture_bytes("message_text"), receiver.url())
        assert forwarder.flush(5)
        (item,) = forwarder.outbox.outbox_due(T0 + timedelta(days=1), 10)
        assert item.attempts == 3

    def test_submit_after_close_goes_to_outbox(
        self, receiver: Receiver, make_forwarder: Any
    ) -> None:
        """A delivery submitted after close() is kept in the outbox, not lost."""
        forwarder = make_forwarder()
        forwarder.start()
        forwarder.close()
        forwarder.submit(receiver.url(), b"{}", [], order_key="k")
        assert forwarder.outbox.outbox_count() == 1

    def test_queue_full_goes_to_outbox(self, receiver: Receiver, make_forwarder: Any) -> None:
        """When the worker queue is full, deliveries go to the outbox instead of being dropped."""
        forwarder = make_forwarder(workers=1, queue_size=1)
        receiver.gate.clear()
        try:
            for i in range(4):
                forwarder.submit(receiver.url(), b"%d" % i, [], order_key=f"k{i}")
            # The drain thread writes them, not submit(): wait for it (the gate stays shut).
            deadline = time.monotonic() + 5
            while forwarder.outbox.outbox_count() < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            stored = forwarder.outbox.outbox_count()
        finally:
            receiver.gate.set()
        assert forwarder.flush(5)
        assert stored >= 2
        assert len(receiver.received) + forwarder.outbox.outbox_count() == 4

    def test_oversized_body_not_forwarded(
        self, receiver: Receiver, make_forwarder: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A body over max_body is not forwarded, and that is logged."""
        forwarder = make_forwarder(max_body=10)
        with caplog.at_level(logging.ERROR, logger="fmc.webhook.forward"):
            forwarder.submit(receiver.url(), b"x" * 11, [], order_key="k")
        assert forwarder.flush(5)
        assert receiver.received == []
        assert "max_body" in caplog.text

    def test_context_manager(self, receiver: Receiver, clock: Clock) -> None:
        """The forwarder works as a context manager that starts and closes its threads."""
        with Forwarder(["127.0.0.1"], allow_private=True, clock=clock) as forwarder:
            forwarder.submit(
                receiver.url(), b"{}", [("Content-Type", "application/json")], order_key="k"
            )
            assert forwarder.flush(5)
        assert len(receiver.received) == 1

    @pytest.mark.parametrize(
        "kwargs",
        [{"workers": 0}, {"queue_size": 0}, {"drain_batch": 0}, {"max_body": 0}],
        ids=["workers", "queue-size", "drain-batch", "max-body"],
    )
    def test_bad_sizes(self, kwargs: dict[str, int]) -> None:
        """Sizes must be positive."""
        with pytest.raises(ConfigurationError):
            Forwarder(["example.com"], **kwargs)  # type: ignore[arg-type]

    def test_repr_shows_no_session_or_outbox_secrets(self) -> None:
        """repr names the allowlist and nothing else."""
        assert repr(Forwarder(["example.com"])) == (
            "Forwarder(allow_hosts=['example.com'], allow_private=False, workers=2)"
        )


def item(key: str, n: int, due: datetime | None = None) -> OutboxItem:
    """An outbox item."""
    return OutboxItem(
        url="https://x/",
        body=b"%d" % n,
        headers=(),
        order_key=key,
        created_at=T0,
        next_attempt_at=due,
    )


class TestMemoryOutbox:
    def test_is_an_outbox_store(self) -> None:
        """MemoryOutbox satisfies the OutboxStore protocol."""
        assert isinstance(MemoryOutbox(), OutboxStore)

    def test_one_head_per_key_oldest_first(self) -> None:
        """outbox_due gives each key's oldest item only, oldest first."""
        outbox = MemoryOutbox()
        for key, n in [("a", 1), ("b", 2), ("a", 3), ("c", 4)]:
            outbox.outbox_put(item(key, n))
        assert [i.body for i in outbox.outbox_due(T0, 10)] == [b"1", b"2", b"4"]

    def test_head_not_due_blocks_its_key(self) -> None:
        """A key whose oldest item is not due yields nothing, even if later items are."""
        outbox = MemoryOutbox()
        outbox.outbox_put(item("a", 1, T0 + timedelta(hours=1)))
        outbox.outbox_put(item("a", 2))
        assert outbox.outbox_due(T0, 10) == []

    def test_ack_unblocks_next(self) -> None:
        """Acking a key's head makes its next item due."""
        outbox = MemoryOutbox()
        first = outbox.outbox_put(item("a", 1))
        outbox.outbox_put(item("a", 2))
        outbox.outbox_ack(first)
        assert [i.body for i in outbox.outbox_due(T0, 10)] == [b"2"]
        assert outbox.outbox_count() == 1

    def test_defer_records_attempt(self) -> None:
        """outbox_defer records attempts, error and the next time."""
        outbox = MemoryOutbox()
        item_id = outbox.outbox_put(item("a", 1))
        outbox.outbox_defer(
            item_id, next_attempt_at=T0 + timedelta(minutes=1), attempts=2, last_error="503"
        )
        assert outbox.outbox_due(T0, 10) == []
        (due,) = outbox.outbox_due(T0 + timedelta(minutes=1), 10)
        assert (due.attempts, due.last_error, due.id) == (2, "503", item_id)

    def test_limit(self) -> None:
        """outbox_due returns at most limit items."""
        outbox = MemoryOutbox()
        for n in range(5):
            outbox.outbox_put(item(f"k{n}", n))
        assert len(outbox.outbox_due(T0, 2)) == 2


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for receiver.test (made with the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "2",
            "-subj",
            "/CN=receiver.test",
            "-addext",
            "subjectAltName=DNS:receiver.test",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_receiver(tls_files: tuple[str, str]) -> Iterator[Receiver]:
    """An HTTPS receiver on 127.0.0.1 presenting the receiver.test certificate."""
    state, thread = start_receiver(tls=tls_files)
    try:
        yield state
    finally:
        state.server.shutdown()
        state.server.server_close()
        thread.join(5)


class TestTLS:
    def test_https_pinned_with_name_checked(
        self, tls_receiver: Receiver, tls_files: tuple[str, str], make_forwarder: Any
    ) -> None:
        """HTTPS goes to the checked address while SNI and the certificate use the URL's host."""
        forwarder = make_forwarder(resolver=lambda host, port: ["127.0.0.1"], verify=tls_files[0])
        body = fixture_bytes("message_text")
        post(handler_with(forwarder), body, f"https://receiver.test:{tls_receiver.port}/hook")
        assert forwarder.flush(5)
        (got,) = tls_receiver.received
        assert got.body == body
        assert got.headers["Host"] == f"receiver.test:{tls_receiver.port}"

    def test_certificate_must_match_url_host(
        self, tls_receiver: Receiver, tls_files: tuple[str, str], make_forwarder: Any
    ) -> None:
        """A host whose certificate does not match its name is not delivered to."""
        forwarder = make_forwarder(
            allow_hosts=["other.test"],
            resolver=lambda host, port: ["127.0.0.1"],
            verify=tls_files[0],
        )
        post(
            handler_with(forwarder),
            fixture_bytes("message_text"),
            f"https://other.test:{tls_receiver.port}/",
        )
        assert forwarder.flush(5)
        assert tls_receiver.received == []
        (item,) = forwarder.outbox.outbox_due(T0 + timedelta(days=1), 10)
        assert "SSLError" in (item.last_error or "")

    def test_verification_cannot_be_disabled(self) -> None:
        """verify=False is refused."""
        with pytest.raises(ConfigurationError):
            Forwarder(["example.com"], verify=False)


class TestWorkerPaths:
    def test_dns_failure_is_retried_then_kept(
        self, make_forwarder: Any, sleeps: list[float]
    ) -> None:
        """A name that does not resolve (maybe for now) is retried, then kept in the outbox."""

        def no_dns(host: str, port: int) -> list[str]:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

        forwarder = make_forwarder(resolver=no_dns)
        forwarder.submit("http://receiver.test/hook", b"{}", [], order_key="k")
        assert forwarder.flush(5)
        assert len(sleeps) == 2
        (item,) = forwarder.outbox.outbox_due(T0 + timedelta(days=1), 10)
        assert "does not resolve" in (item.last_error or "")

    def test_drain_failure_deferred_with_backoff(
        self, receiver: Receiver, make_forwarder: Any, clock: Clock
    ) -> None:
        """A drain attempt that fails again is deferred, its attempts counted, its wait doubled."""
        forwarder = make_forwarder(
            retry=ForwardRetry(attempts=1, outbox_wait_initial=timedelta(seconds=30))
        )
        receiver.statuses = [503, 503]
        forwarder.submit(receiver.url(), b"{}", [], order_key="k")
        assert forwarder.flush(5)
        clock.now += timedelta(seconds=30)
        assert forwarder.drain() == 0
        assert forwarder.outbox.outbox_due(clock.now + timedelta(seconds=59), 10) == []
        (item,) = forwarder.outbox.outbox_due(clock.now + timedelta(seconds=60), 10)
        assert (item.attempts, item.last_error) == (2, "receiver answered 503")

    def test_drain_permanent_failure_dropped(
        self,
        receiver: Receiver,
        make_forwarder: Any,
        clock: Clock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """An outbox item answered with a 4xx is dropped and logged."""
        forwarder = make_forwarder(retry=ForwardRetry(attempts=1))
        receiver.statuses = [503, 404]
        forwarder.submit(receiver.url(), b"{}", [], order_key="k")
        assert forwarder.flush(5)
        clock.now += timedelta(hours=1)
        with caplog.at_level(logging.ERROR, logger="fmc.webhook.forward"):
            assert forwarder.drain() == 0
        assert forwarder.outbox.outbox_count() == 0
        assert "answered 404" in caplog.text

    def test_drain_refused_item_dropped(
        self, make_forwarder: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An outbox item whose address is no longer allowed is dropped and logged."""
        outbox = MemoryOutbox()
        outbox.outbox_put(item("k", 1))
        forwarder = make_forwarder(outbox=outbox)
        with caplog.at_level(logging.WARNING, logger="fmc.webhook.forward"):
            assert forwarder.drain() == 0
        assert outbox.outbox_count() == 0
        assert "refused, dropped" in caplog.text

    def test_drain_skips_delivery_in_flight(
        self, receiver: Receiver, make_forwarder: Any, clock: Clock
    ) -> None:
        """With persist_first, a drain while a worker is sending does not send it again."""
        forwarder = make_forwarder(persist_first=True)
        receiver.gate.clear()
        try:
            forwarder.submit(receiver.url(), b"{}", [], order_key="k")
            assert receiver.arrived.wait(5)
            clock.now += timedelta(minutes=1)
            assert forwarder.drain() == 0
        finally:
            receiver.gate.set()
        assert forwarder.flush(5)
        assert len(receiver.received) == 1
        assert forwarder.outbox.outbox_count() == 0

    @pytest.mark.parametrize("persist_first", [False, True], ids=["queued", "persisted"])
    def test_close_parks_queued_deliveries(
        self, receiver: Receiver, make_forwarder: Any, persist_first: bool
    ) -> None:
        """Deliveries queued at close() go to the outbox, due at once; the one in flight ends."""
        forwarder = make_forwarder(workers=1, persist_first=persist_first)
        receiver.gate.clear()
        for n in range(3):
            forwarder.submit(receiver.url(), b"%d" % n, [], order_key=f"k{n}")
        assert receiver.arrived.wait(5)
        closer = threading.Thread(target=forwarder.close)
        closer.start()
        receiver.gate.set()
        closer.join(10)
        assert [r.body for r in receiver.received] == [b"0"]
        assert len(forwarder.outbox.outbox_due(T0, 10)) == 2
        assert sorted(i.body for i in forwarder.outbox.outbox_due(T0 + timedelta(days=1), 10)) == [
            b"1",
            b"2",
        ]
