"""send_many: one outcome per request, lazy input, bounded memory, bounded concurrency."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fmc.errors import RateLimitError, RecipientUnavailableError, SendTimeoutError
from fmc.models import Recipient, SendRequest, Text
from fmc.transport import Client, RateLimiter, RetryPolicy, SendOutcome


def _request(psid: str) -> SendRequest:
    return SendRequest(Recipient(psid), Text("news"))


class Counted:
    """An endless request generator that counts how many were pulled."""

    def __init__(self, limit: int | None = None) -> None:
        self.pulled = 0
        self.limit = limit

    def __iter__(self) -> Iterator[SendRequest]:
        for i in itertools.count():
            if self.limit is not None and i >= self.limit:
                return
            self.pulled += 1
            yield _request(str(i))


def _echo(request, context) -> dict[str, str]:
    psid = request.json()["recipient"]["id"]
    return {"recipient_id": psid, "message_id": f"m_{psid}"}


class TestOutcomes:
    def test_one_outcome_per_request(self, client, graph, messages_url) -> None:
        """Every request yields exactly one successful outcome carrying its request."""
        graph.post(messages_url, json=_echo)
        outcomes = list(client.send_many([_request(str(i)) for i in range(30)]))
        assert sorted(int(o.request.recipient.id) for o in outcomes) == list(range(30))
        assert all(o.ok and o.result.recipient_id == o.request.recipient.id for o in outcomes)

    def test_one_bad_recipient_does_not_stop_the_rest(self, client, graph, messages_url) -> None:
        """A failing recipient gets an error outcome; the others are sent."""

        def answer(request, context):
            if request.json()["recipient"]["id"] == "3":
                context.status_code = 400
                return {"error": {"code": 551, "message": "unavailable"}}
            return _echo(request, context)

        graph.post(messages_url, json=answer)
        outcomes = {
            o.request.recipient.id: o
            for o in client.send_many([_request(str(i)) for i in range(6)])
        }
        assert isinstance(outcomes["3"].error, RecipientUnavailableError)
        assert not outcomes["3"].ok
        assert sum(o.ok for o in outcomes.values()) == 5

    def test_non_request_item_gets_an_error_outcome(self, client, graph, messages_url) -> None:
        """An item that is not a SendRequest fails alone with a TypeError."""
        graph.post(messages_url, json=_echo)
        outcomes = list(client.send_many([_request("1"), 42]))  # type: ignore[list-item]
        assert Counter(type(o.error).__name__ for o in outcomes) == {"NoneType": 1, "TypeError": 1}

    def test_ambiguous_outcome_is_flagged(self, client, graph, messages_url) -> None:
        """A send that may have gone out is reported as ambiguous and not resent."""
        graph.post(messages_url, content=b"<html>")
        (outcome,) = client.send_many([_request("1")])
        assert outcome.ambiguous
        assert graph.call_count == 1

    def test_empty_input(self, client) -> None:
        """No requests, no outcomes."""
        assert list(client.send_many([])) == []

    def test_input_errors_propagate(self, client, graph, messages_url) -> None:
        """An exception raised by the input iterable reaches the caller."""
        graph.post(messages_url, json=_echo)

        def broken() -> Iterator[SendRequest]:
            yield _request("1")
            raise RuntimeError("database gone")

        with pytest.raises(RuntimeError, match="database gone"):
            list(client.send_many(broken()))

    @pytest.mark.parametrize("concurrency", [0, -1, 1.5], ids=["zero", "negative", "float"])
    def test_concurrency_is_checked(self, client, concurrency) -> None:
        """concurrency must be a positive int."""
        with pytest.raises(ValueError, match="concurrency"):
            client.send_many([], concurrency=concurrency)

    def test_outcome_ok_property(self) -> None:
        """An outcome is ok exactly when it has no error."""
        assert SendOutcome(_request("1")).ok
        assert not SendOutcome(_request("1"), error=ValueError("x")).ok


class TestLaziness:
    def test_infinite_input_is_not_drained(self, client, graph, messages_url) -> None:
        """Taking 10 outcomes from an endless generator pulls at most 10 + 2×concurrency."""
        graph.post(messages_url, json=_echo)
        source = Counted()
        outcomes = client.send_many(source, concurrency=4)
        taken = list(itertools.islice(outcomes, 10))
        outcomes.close()
        assert len(taken) == 10
        assert source.pulled <= 10 + 2 * 4

    def test_window_is_bounded_at_every_step(self, client, graph, messages_url) -> None:
        """At the k-th outcome at most k - 1 + 2×concurrency requests have been pulled."""
        graph.post(messages_url, json=_echo)
        source = Counted(limit=200)
        for k, _ in enumerate(client.send_many(source, concurrency=3), start=1):
            assert source.pulled <= k - 1 + 2 * 3
        assert source.pulled == 200

    def test_closing_early_sends_nothing_more(self, client, graph, messages_url) -> None:
        """After the iterator is closed no further HTTP call starts."""
        graph.post(messages_url, json=_echo)
        outcomes = client.send_many(Counted(), concurrency=2)
        next(outcomes)
        outcomes.close()
        calls = graph.call_count
        time.sleep(0.05)
        assert graph.call_count == calls
        assert calls <= 1 + 2 * 2


class TestConcurrency:
    def test_in_flight_calls_never_exceed_concurrency(self, page) -> None:
        """On a real loopback server at most `concurrency` calls are in flight, and several are."""
        lock = threading.Lock()
        state = {"in_flight": 0, "peak": 0}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    state["in_flight"] += 1
                    state["peak"] = max(state["peak"], state["in_flight"])
                time.sleep(0.01)
                with lock:
                    state["in_flight"] -= 1
                psid = json.loads(body)["recipient"]["id"]
                answer = json.dumps({"recipient_id": psid, "message_id": "m"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with Client(page, base_url=f"http://127.0.0.1:{server.server_port}") as client:
                outcomes = list(
                    client.send_many([_request(str(i)) for i in range(40)], concurrency=5)
                )
        finally:
            server.shutdown()
            server.server_close()
        assert len(outcomes) == 40
        assert all(o.ok for o in outcomes)
        assert 1 < state["peak"] <= 5

    def test_rate_limiter_is_charged_per_send(self, page, graph, messages_url, monotonic) -> None:
        """Every HTTP attempt of send_many takes one token from the client's limiter."""
        charged: list[int] = []

        class Spy(RateLimiter):
            def acquire(self, tokens: int = 1) -> float:
                charged.append(tokens)
                return 0.0

        graph.post(messages_url, json=_echo)
        with Client(
            page, rate_limit=Spy(300), monotonic=monotonic, sleep=monotonic.sleep
        ) as client:
            list(client.send_many([_request(str(i)) for i in range(25)]))
        assert charged == [1] * 25


class TestThrottledRecovery:
    def test_every_message_delivered_once_under_ten_percent_613(
        self, page, graph, messages_url
    ) -> None:
        """With 613 on every tenth call, each message is delivered once, in ≤ 1.2 calls per send."""
        lock = threading.Lock()
        calls = itertools.count(1)
        delivered: Counter[str] = Counter()

        def flaky(request, context):
            with lock:
                n = next(calls)
            if n % 10 == 0:
                context.status_code = 400
                return {
                    "error": {
                        "code": 613,
                        "message": "Calls to this API have exceeded the rate limit",
                    }
                }
            psid = request.json()["recipient"]["id"]
            with lock:
                delivered[psid] += 1
            return {"recipient_id": psid, "message_id": f"m_{psid}"}

        graph.post(messages_url, json=flaky)
        naps: list[float] = []
        policy = RetryPolicy(attempts=10, wait_initial=0.001, wait_max=0.002, wait_jitter=0.001)
        with Client(page, retry=policy, sleep=naps.append) as client:
            outcomes = list(client.send_many((_request(str(i)) for i in range(500)), concurrency=8))
        assert all(o.ok for o in outcomes)
        assert set(delivered.values()) == {1}
        assert len(delivered) == 500
        assert graph.call_count / 500 <= 1.2
        assert naps

    def test_retries_exhausted_give_the_rate_limit_error(
        self, page, graph, messages_url, monotonic
    ) -> None:
        """A recipient still throttled after the policy's attempts gets a RateLimitError outcome."""
        graph.post(messages_url, status_code=400, json={"error": {"code": 613}})
        policy = RetryPolicy(attempts=2, wait_jitter=0.0)
        with Client(page, retry=policy, monotonic=monotonic, sleep=monotonic.sleep) as client:
            (outcome,) = client.send_many([_request("1")])
        assert isinstance(outcome.error, RateLimitError)
        assert graph.call_count == 2

    def test_read_timeouts_are_not_resent(self, client, graph, messages_url) -> None:
        """A send whose answer is lost is reported ambiguous and sent only once."""
        import requests

        graph.post(messages_url, exc=requests.exceptions.ReadTimeout("lost"))
        outcomes = list(client.send_many([_request(str(i)) for i in range(5)]))
        assert all(isinstance(o.error, SendTimeoutError) for o in outcomes)
        assert graph.call_count == 5


def test_outcome_json_is_not_reencoded(client, graph, messages_url) -> None:
    """The body on the wire is the compact JSON of the request, encoded once."""
    graph.post(messages_url, json=_echo)
    list(client.send_many([_request("7")]))
    assert (
        graph.last_request.body
        == json.dumps(
            {"recipient": {"id": "7"}, "message": {"text": "news"}, "messaging_type": "RESPONSE"},
            separators=(",", ":"),
        ).encode()
    )
