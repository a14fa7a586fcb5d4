"""One suite, both drivers: fmc.Client and fmc.AsyncClient share every rule of the pipeline.

Each test runs against the sync client on :class:`fmc.testing.FakeTransport`
and the async client on :class:`fmc.testing.AsyncFakeTransport`, with one fake
clock that only moves when someone sleeps.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fmc.convert import send_request_to_wire
from fmc.errors import (
    AmbiguousSendError,
    AuthenticationError,
    GraphAPIError,
    NetworkError,
    PageThrottledError,
    RateLimitError,
    RecipientUnavailableError,
    SendTimeoutError,
    TransientError,
    UncertainDeliveryError,
)
from fmc.models import Page, Recipient, SendRequest, Text
from fmc.testing import AsyncFakeTransport, FakeGraphAPI, FakeTransport, Fault
from fmc.transport import AsyncClient, BatchCall, Client, RetryPolicy, SendOutcome

TOKEN = "EAAGdrivers0123456789abcdef"
SECRET = "drivers-app-secret-0123"
WALL = datetime.datetime(2026, 12, 1, 3, 0, tzinfo=datetime.timezone.utc)
POLICY = RetryPolicy(attempts=3, timeout=60.0, wait_initial=1.0, wait_max=4.0, wait_jitter=0.0)


def psid(number: int) -> str:
    return f"2400000000{number:05d}"


def requests(count: int, start: int = 0) -> list[SendRequest]:
    return [
        SendRequest(Recipient(psid(n)), Text("news"), messaging_type="UPDATE")
        for n in range(start, start + count)
    ]


class Driver:
    """Runs the same calls through either client, synchronously for the test."""

    def __init__(self, kind: str, fake: FakeGraphAPI, monotonic: Any, **options: Any) -> None:
        self.kind = kind
        self.fake = fake
        page = Page(fake.page_id, TOKEN, app_secret=SECRET)
        settings: dict[str, Any] = {
            "retry": POLICY,
            "monotonic": monotonic,
            "wall_clock": lambda: WALL,
            **options,
        }
        self._loop: asyncio.AbstractEventLoop | None = None
        self.client: Client | AsyncClient
        if kind == "sync":
            transport = FakeTransport(fake, sleep=monotonic.sleep)
            self.client = Client(page, sleep=monotonic.sleep, transport=transport, **settings)
        else:

            async def sleep(seconds: float) -> None:
                monotonic.sleep(seconds)
                await asyncio.sleep(0)

            self._loop = asyncio.new_event_loop()
            transport_async = AsyncFakeTransport(fake, sleep=sleep)
            self.client = AsyncClient(page, sleep=sleep, transport=transport_async, **settings)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, name)(*args, **kwargs)
        if self._loop is None:
            return result
        return self._loop.run_until_complete(result)

    def send(self, number: int = 1) -> Any:
        return self.call("send", Recipient(psid(number)), Text("hello"))

    def send_many(self, items: list[SendRequest], **options: Any) -> list[SendOutcome]:
        outcomes = self.client.send_many(items, **options)
        if self._loop is None:
            return list(outcomes)  # type: ignore[arg-type]

        async def collect() -> list[SendOutcome]:
            return [outcome async for outcome in outcomes]  # type: ignore[union-attr]

        return self._loop.run_until_complete(collect())

    def close(self) -> None:
        if self._loop is None:
            self.client.close()  # type: ignore[unused-coroutine]
        else:
            self._loop.run_until_complete(self.client.close())  # type: ignore[arg-type]
            self._loop.close()


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest, monotonic: Any) -> Iterator[Callable[..., Driver]]:
    made: list[Driver] = []

    def build(*faults: Fault, fake: FakeGraphAPI | None = None, **options: Any) -> Driver:
        fake = fake or FakeGraphAPI(monotonic=monotonic, access_token=TOKEN, app_secret=SECRET)
        fake.faults.add(*faults)
        driver = Driver(request.param, fake, monotonic, **options)
        made.append(driver)
        return driver

    yield build
    for driver in made:
        driver.close()


RETRY_TABLE = [
    (Fault.rate_limit(), RateLimitError, 3),
    (Fault.transient(code=2), TransientError, 3),
    (Fault.transient(code=1200), TransientError, 3),
    (Fault.server_error(status=502), TransientError, 3),
    (Fault.drop(after=False), NetworkError, 3),
    (Fault.drop(after=True), SendTimeoutError, 1),
    (Fault.malformed("truncated"), UncertainDeliveryError, 1),
    (Fault.unavailable([psid(1)]), RecipientUnavailableError, 1),
    (Fault.error(190, "Invalid OAuth access token", subcode=463), AuthenticationError, 1),
    (Fault.error(100, "(#100) Invalid parameter"), GraphAPIError, 1),
]


class TestRetryTable:
    @pytest.mark.parametrize(
        ("fault", "error", "requests_made"),
        RETRY_TABLE,
        ids=[
            "613",
            "transient-2",
            "transient-1200",
            "http-502",
            "drop-before",
            "drop-after",
            "truncated-success",
            "551",
            "190",
            "100",
        ],
    )
    def test_what_is_retried(
        self, make: Callable[..., Driver], fault: Fault, error: type, requests_made: int
    ) -> None:
        """Each kind of failure is retried (or not) the same way by both drivers."""
        driver = make(fault)
        with pytest.raises(error):
            driver.send()
        assert driver.fake.http_request_count == requests_made

    def test_recovers_after_transient_errors(
        self, make: Callable[..., Driver], monotonic: Any
    ) -> None:
        """Two transient failures then a success return the success, after the backoff."""
        driver = make(Fault.transient(times=2))
        assert driver.send().message_id
        assert monotonic.sleeps == [1.0, 2.0]


class TestAmbiguity:
    def test_dropped_answer_is_ambiguous_and_never_resent(
        self, make: Callable[..., Driver]
    ) -> None:
        """A send whose answer was lost is reported ambiguous, delivered once, not resent."""
        driver = make(Fault.drop(after=True, psids=[psid(3)]))
        outcomes = {o.request.recipient.id: o for o in driver.send_many(requests(6))}
        assert outcomes[psid(3)].ambiguous
        assert isinstance(outcomes[psid(3)].error, AmbiguousSendError)
        assert sum(o.ok for o in outcomes.values()) == 5
        assert driver.fake.delivery_counts()[psid(3)] == 1
        assert driver.fake.http_request_count == 6


class TestRateLimiting:
    def test_no_window_holds_more_than_the_rate(self, make: Callable[..., Driver]) -> None:
        """With rate_limit=10, no second of the fake's clock sees more than 10 sends."""
        driver = make(rate_limit=10)
        assert all(o.ok for o in driver.send_many(requests(45), concurrency=4))
        times = sorted(r.time for r in driver.fake.http_requests)
        busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
        assert busiest <= 10
        assert times[-1] - times[0] >= 4.0


class TestBatchMapping:
    def test_each_outcome_belongs_to_its_request(self, make: Callable[..., Driver]) -> None:
        """In batches of 10, every outcome carries its own request's result or error."""
        unavailable = [psid(4), psid(17)]
        driver = make(Fault.unavailable(unavailable))
        outcomes = driver.send_many(requests(25), batch_size=10)
        assert len(outcomes) == 25
        for outcome in outcomes:
            person = outcome.request.recipient.id
            if person in unavailable:
                assert isinstance(outcome.error, RecipientUnavailableError)
            else:
                assert outcome.result is not None
                assert outcome.result.recipient_id == person
        assert driver.fake.http_request_count == 3

    def test_throttled_items_are_retried_alone(self, make: Callable[..., Driver]) -> None:
        """Items Meta throttled go again in a smaller batch; the others are never resent."""
        driver = make(Fault.rate_limit(times=2))
        outcomes = driver.send_many(requests(10), batch_size=10)
        assert all(outcome.ok for outcome in outcomes)
        assert set(driver.fake.delivery_counts().values()) == {1}
        assert driver.fake.http_request_count == 2


class TestSharedPause:
    def test_long_throttle_refuses_later_calls_without_a_request(
        self, make: Callable[..., Driver]
    ) -> None:
        """After Meta asks for ten minutes, the next call raises PageThrottledError unsent."""
        driver = make(Fault.rate_limit(retry_after=600, times=1))
        with pytest.raises(RateLimitError):
            driver.send(1)
        with pytest.raises(PageThrottledError) as raised:
            driver.send(2)
        assert raised.value.resume_at == WALL + datetime.timedelta(seconds=600)
        assert driver.fake.http_request_count == 1

    def test_pause_within_max_pause_is_waited_out(
        self, make: Callable[..., Driver], monotonic: Any
    ) -> None:
        """A pause the caller allows is slept out, then the send goes through."""
        driver = make(Fault.rate_limit(retry_after=120, times=1), max_pause=300.0)
        assert driver.send().message_id
        assert monotonic.sleeps == [120.0]

    def test_throttled_calls_in_a_raw_batch_pause_the_client(
        self, make: Callable[..., Driver]
    ) -> None:
        """client.batch() reads the batch answer's usage headers: the next call is refused."""
        driver = make(Fault.rate_limit(retry_after=600, usage=True, times=1))
        calls = [
            BatchCall("POST", f"{driver.fake.page_id}/messages", send_request_to_wire(r))
            for r in requests(3)
        ]
        answers = driver.call("batch", calls)
        assert [answer.code for answer in answers].count(400) == 1
        with pytest.raises(PageThrottledError):
            driver.send()
        assert driver.fake.http_request_count == 1


class TestRedaction:
    def test_token_quoted_by_graph_never_reaches_the_error(
        self, make: Callable[..., Driver]
    ) -> None:
        """Graph's "Malformed access token <token>" loses the token before the error is built."""
        driver = make(Fault.error(190, f"Malformed access token {TOKEN}"))
        with pytest.raises(AuthenticationError) as raised:
            driver.send()
        for text in (str(raised.value), repr(raised.value), f"{raised.value}"):
            assert TOKEN not in text
        assert "Malformed access token REDACTED" in raised.value.message


class TestOtherCalls:
    def test_profile_and_messenger_profile(self, make: Callable[..., Driver]) -> None:
        """Profile reads and Messenger profile writes go through the same pipeline."""
        driver = make()
        driver.fake.add_user(psid(1), first_name="Ada")
        assert driver.call("get_user_profile", psid(1)).first_name == "Ada"
        driver.call("set_messenger_profile", greeting="Hi!")
        assert driver.call("get_messenger_profile", ["greeting"]) == {
            "greeting": [{"locale": "default", "text": "Hi!"}]
        }
        assert driver.call("upload_attachment", "image", "https://example.com/a.png")

    def test_profile_read_waits_on_the_shared_pause(self, make: Callable[..., Driver]) -> None:
        """A throttled send pauses profile reads too: no request goes out."""
        driver = make(Fault.rate_limit(retry_after=600, times=1))
        with pytest.raises(RateLimitError):
            driver.send()
        with pytest.raises(PageThrottledError):
            driver.call("get_user_profile", psid(1))
        assert driver.fake.http_request_count == 1
