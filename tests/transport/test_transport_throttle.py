"""Throttling is shared and honest: one pause for the whole client, no request during it."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator
from typing import Any

import pytest

from fmc.errors import PageThrottledError, RateLimitError
from fmc.models import Page, Recipient, SendRequest, Text
from fmc.testing import FakeGraphAPI, Fault
from fmc.transport import Client, RetryPolicy

TOKEN = "EAAGthrottle0123456789"
WALL = datetime.datetime(2026, 12, 1, 3, 0, tzinfo=datetime.timezone.utc)


def _requests(count: int) -> Iterator[SendRequest]:
    for number in range(count):
        yield SendRequest(
            Recipient(f"2400000000{number:05d}"), Text("news"), messaging_type="UPDATE"
        )


def _client(url: str, **options: object) -> Client:
    page = Page(FakeGraphAPI().page_id, TOKEN)
    return Client(page, base_url=url, wall_clock=lambda: WALL, **options)  # type: ignore[arg-type]


class TestLongPause:
    def test_no_request_goes_out_during_a_pause_longer_than_max_pause(self) -> None:
        """Meta asks for 10 minutes: only calls in flight reach the fake, the rest are refused."""
        fake = FakeGraphAPI(faults=[Fault.rate_limit(retry_after=600, usage=True)])
        with fake.serve() as url, _client(url, concurrency=8) as client:
            outcomes = list(client.send_many(_requests(300)))
        throttled = [o.error for o in outcomes if isinstance(o.error, PageThrottledError)]
        answered = [
            o.error
            for o in outcomes
            if isinstance(o.error, RateLimitError) and not isinstance(o.error, PageThrottledError)
        ]
        assert len(throttled) + len(answered) == 300
        assert fake.http_request_count == len(answered) <= 8
        assert len(throttled) >= 292

    def test_refusal_says_when_to_resume(self) -> None:
        """PageThrottledError carries Meta's code and an aware UTC resume_at (end of the pause)."""
        fake = FakeGraphAPI(faults=[Fault.rate_limit(retry_after=600)])
        with fake.serve() as url, _client(url) as client:
            with pytest.raises(RateLimitError):
                client.send(Recipient("24000000000000001"), Text("first"))
            with pytest.raises(PageThrottledError) as raised:
                client.send(Recipient("24000000000000002"), Text("second"))
        assert fake.http_request_count == 1
        error = raised.value
        assert error.code == 613
        assert error.resume_at.tzinfo is datetime.timezone.utc
        assert 590 <= (error.resume_at - WALL).total_seconds() <= 600

    def test_usage_header_minutes_start_the_pause(self) -> None:
        """Business-use-case usage minutes pause every later call, profile reads included."""
        fake = FakeGraphAPI(faults=[Fault.rate_limit(code=80006, usage=True, times=1)])
        with fake.serve() as url, _client(url, retry=RetryPolicy(timeout=30.0)) as client:
            with pytest.raises(RateLimitError):
                client.send(Recipient("24000000000000001"), Text("first"))
            with pytest.raises(PageThrottledError):
                client.get_user_profile("24000000000000001")
        assert fake.http_request_count == 1


class TestPauseWithinMaxPause:
    def test_a_pause_the_caller_allows_is_waited_out(self, monotonic: Any) -> None:
        """A pause within max_pause (beyond the deadline) is waited out; nothing is sent in it."""
        fake = FakeGraphAPI(
            monotonic=monotonic, faults=[Fault.rate_limit(retry_after=120, times=1)]
        )
        with (
            fake.serve() as url,
            _client(
                url,
                concurrency=4,
                retry=RetryPolicy(timeout=45.0),
                max_pause=600.0,
                monotonic=monotonic,
                sleep=monotonic.sleep,
            ) as client,
        ):
            outcomes = list(client.send_many(_requests(40)))
        assert all(outcome.ok for outcome in outcomes)
        assert len(fake.deliveries) == 40
        times = [request.time for request in fake.http_requests]
        throttled_at = times[0]
        during = [t for t in times if throttled_at < t < throttled_at + 120]
        assert during == []
        assert max(times) >= throttled_at + 120

    def test_infinite_max_pause_waits_as_long_as_meta_asks(self, monotonic: Any) -> None:
        """max_pause=math.inf waits out even an hour-long pause."""
        fake = FakeGraphAPI(
            monotonic=monotonic, faults=[Fault.rate_limit(retry_after=3600, times=1)]
        )
        with (
            fake.serve() as url,
            _client(url, max_pause=math.inf, monotonic=monotonic, sleep=monotonic.sleep) as client,
        ):
            client.send(Recipient("24000000000000001"), Text("hello"))
        assert monotonic.sleeps == [3600.0]
        assert len(fake.deliveries) == 1


class TestThrottleWithoutHeaders:
    def test_code_4_costs_far_less_than_one_request_per_person(self, monotonic: Any) -> None:
        """Persistent code 4 without headers costs fewer requests than people (was six each)."""
        fake = FakeGraphAPI(monotonic=monotonic, faults=[Fault.rate_limit(code=4)])
        policy = RetryPolicy(attempts=6, timeout=45.0, wait_initial=0.5, wait_max=10.0)
        with (
            fake.serve() as url,
            _client(
                url, concurrency=8, retry=policy, monotonic=monotonic, sleep=monotonic.sleep
            ) as client,
        ):
            outcomes = list(client.send_many(_requests(120)))
        assert all(isinstance(outcome.error, RateLimitError) for outcome in outcomes)
        assert fake.http_request_count < 120

    def test_a_success_after_the_pause_reopens_the_gate(self, monotonic: Any) -> None:
        """Once the probe is answered normally, every call goes again at once."""
        fake = FakeGraphAPI(monotonic=monotonic, faults=[Fault.rate_limit(code=4, times=1)])
        policy = RetryPolicy(wait_initial=2.0, wait_jitter=0.0)
        with (
            fake.serve() as url,
            _client(url, retry=policy, monotonic=monotonic, sleep=monotonic.sleep) as client,
        ):
            client.send(Recipient("24000000000000001"), Text("one"))
            client.send(Recipient("24000000000000002"), Text("two"))
        assert monotonic.sleeps == [2.0]
        assert fake.http_request_count == 3


class TestBatchOuterHeaders:
    def test_outer_usage_headers_pause_the_client(self) -> None:
        """The batch answer's own usage headers start the pause; no later batch is sent."""
        fake = FakeGraphAPI(faults=[Fault.rate_limit(retry_after=600, usage=True, times=3)])
        with fake.serve() as url, _client(url, concurrency=1) as client:
            outcomes = list(client.send_many(_requests(50), batch_size=10))
        errors = [outcome.error for outcome in outcomes if not outcome.ok]
        assert fake.http_request_count == 1
        assert sum(outcome.ok for outcome in outcomes) == 7
        assert sum(isinstance(e, PageThrottledError) for e in errors) == 40
        item_errors = [e for e in errors if not isinstance(e, PageThrottledError)]
        assert len(item_errors) == 3
        assert all(e.retry_after == 600.0 for e in item_errors if isinstance(e, RateLimitError))
