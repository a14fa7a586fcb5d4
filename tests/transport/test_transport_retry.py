"""The retry policy: what is retried, how often, how long, and what never is."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

import pytest
import tenacity

from fmc.errors import (
    AuthenticationError,
    FMCError,
    FrequencyCapError,
    GraphAPIError,
    InvalidRequestError,
    NetworkError,
    OutsideWindowError,
    PageThrottledError,
    PermissionDeniedError,
    RateLimitError,
    RecipientUnavailableError,
    SendTimeoutError,
    TransientError,
    UncertainDeliveryError,
)
from fmc.transport.retry import (
    BackoffGate,
    Retrier,
    RetryAttempt,
    RetryPolicy,
    Ticket,
    Wait,
    is_retryable,
)


def _rate_limited(retry_after: str | None = None) -> RateLimitError:
    usage = {"retry-after": retry_after} if retry_after is not None else {}
    return RateLimitError("slow down", status=400, code=613, usage=usage)


RETRY_TABLE = [
    (lambda: _rate_limited(), True, "613 rate limit"),
    (lambda: RateLimitError("app limit", code=4), True, "4 app limit"),
    (lambda: TransientError("try later", code=2), True, "2 transient"),
    (lambda: TransientError("temporary", code=1200), True, "1200 temporary"),
    (lambda: TransientError("bad gateway", status=502), True, "HTTP 5xx"),
    (lambda: NetworkError("refused"), True, "connection never established"),
    (lambda: SendTimeoutError("read timeout"), False, "read timeout after sending"),
    (
        lambda: UncertainDeliveryError("invalid JSON reply", code=1, subcode=1357046),
        False,
        "1/1357046",
    ),
    (lambda: AuthenticationError("bad token", code=190), False, "190 token"),
    (lambda: PermissionDeniedError("no permission", code=10), False, "10 permission"),
    (lambda: OutsideWindowError("window", code=10, subcode=2018278), False, "outside window"),
    (lambda: RecipientUnavailableError("gone", code=551), False, "551 unavailable"),
    (lambda: InvalidRequestError("bad param", code=100), False, "100 invalid"),
    (lambda: FrequencyCapError("too often", code=4, subcode=2018354), False, "frequency cap"),
    (lambda: GraphAPIError("unknown", code=99999), False, "unknown code"),
    (lambda: ValueError("bug"), False, "programming error"),
]


class Flaky:
    """Raises the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def _retrier(monotonic, **policy: object) -> Retrier:
    settings: dict[str, object] = {
        "attempts": 4,
        "timeout": 60.0,
        "wait_initial": 1.0,
        "wait_max": 8.0,
        "wait_jitter": 0.0,
    }
    settings.update(policy)
    return Retrier(RetryPolicy(**settings), monotonic=monotonic, sleep=monotonic.sleep)  # type: ignore[arg-type]


class TestRetryTable:
    @pytest.mark.parametrize(
        ("make", "retried"),
        [(make, retried) for make, retried, _ in RETRY_TABLE],
        ids=[name for _, _, name in RETRY_TABLE],
    )
    def test_is_retryable(self, make: Callable[[], Exception], retried: bool) -> None:
        """Only rate limits, transient errors and unreached connections are retryable."""
        assert is_retryable(make()) is retried

    @pytest.mark.parametrize(
        ("make", "retried"),
        [(make, retried) for make, retried, _ in RETRY_TABLE],
        ids=[name for _, _, name in RETRY_TABLE],
    )
    def test_attempts_per_error_kind(
        self, monotonic, make: Callable[[], Exception], retried: bool
    ) -> None:
        """A retryable error is tried `attempts` times; any other error exactly once."""
        errors = [make() for _ in range(10)]
        fn = Flaky(*errors)
        with pytest.raises(type(errors[0])) as raised:
            _retrier(monotonic).call(fn, operation="send")
        assert fn.calls == (4 if retried else 1)
        assert raised.value is errors[fn.calls - 1]

    @pytest.mark.parametrize(
        "make",
        [make for make, retried, _ in RETRY_TABLE if retried],
        ids=[name for _, retried, name in RETRY_TABLE if retried],
    )
    def test_recovers_after_retryable_errors(
        self, monotonic, make: Callable[[], Exception]
    ) -> None:
        """Two retryable failures followed by a success return the success."""
        fn = Flaky(make(), make())
        assert _retrier(monotonic).call(fn, operation="send") == "ok"
        assert fn.calls == 3


class TestRetrier:
    def test_success_needs_no_retry_machinery(self, monotonic) -> None:
        """A first attempt that succeeds is called once and never sleeps."""
        fn = Flaky()
        assert _retrier(monotonic).call(fn, operation="send") == "ok"
        assert (fn.calls, monotonic.sleeps) == (1, [])

    def test_reraises_last_typed_error_not_tenacity(self, monotonic) -> None:
        """When retries run out the last fmc error escapes, never tenacity.RetryError."""
        errors = [TransientError(f"t{i}", code=2) for i in range(4)]
        with pytest.raises(TransientError) as raised:
            _retrier(monotonic).call(Flaky(*errors), operation="send")
        assert raised.value is errors[-1]
        assert not isinstance(raised.value, tenacity.RetryError)

    def test_exponential_backoff(self, monotonic) -> None:
        """Waits grow by wait_exp_base from wait_initial, capped by wait_max."""
        retrier = _retrier(monotonic, attempts=6, wait_initial=1.0, wait_max=5.0, wait_exp_base=2.0)
        with pytest.raises(TransientError):
            retrier.call(Flaky(*[TransientError("t", code=2) for _ in range(6)]), operation="send")
        assert monotonic.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]

    def test_jitter_is_bounded(self, monotonic) -> None:
        """Each wait adds between 0 and wait_jitter seconds to the backoff."""
        retrier = _retrier(monotonic, attempts=30, wait_initial=1.0, wait_max=1.0, wait_jitter=0.5)
        with pytest.raises(TransientError):
            retrier.call(Flaky(*[TransientError("t", code=2) for _ in range(30)]), operation="send")
        assert all(1.0 <= s <= 1.5 for s in monotonic.sleeps)
        assert len(set(monotonic.sleeps)) > 1

    def test_retry_after_is_honoured(self, monotonic) -> None:
        """A Retry-After longer than the backoff sets the wait."""
        fn = Flaky(_rate_limited("7"))
        assert _retrier(monotonic).call(fn, operation="send") == "ok"
        assert monotonic.sleeps[0] == 7.0

    def test_business_usage_header_is_honoured(self, monotonic) -> None:
        """estimated_time_to_regain_access (minutes) in X-Business-Use-Case-Usage sets the wait."""
        usage = {"x-business-use-case-usage": '{"1234": [{"estimated_time_to_regain_access": 1}]}'}
        fn = Flaky(RateLimitError("throttled", code=80006, usage=usage))
        assert _retrier(monotonic, timeout=300.0).call(fn, operation="send") == "ok"
        assert monotonic.sleeps[0] == 60.0

    def test_retry_after_beyond_deadline_gives_up_at_once(self, monotonic) -> None:
        """When Meta asks for longer than the time left, fmc raises Meta's error without waiting."""
        error = _rate_limited("3600")
        fn = Flaky(error)
        with pytest.raises(RateLimitError) as raised:
            _retrier(monotonic, timeout=30.0).call(fn, operation="send")
        assert raised.value is error
        assert (fn.calls, monotonic.sleeps) == (1, [])

    def test_deadline_bounds_total_time(self, monotonic) -> None:
        """Attempts and waits never run past the policy's timeout."""
        start = monotonic()
        retrier = _retrier(monotonic, attempts=100, timeout=10.0, wait_initial=3.0, wait_max=3.0)
        with pytest.raises(TransientError):
            retrier.call(
                Flaky(*[TransientError("t", code=2) for _ in range(100)]), operation="send"
            )
        assert monotonic() - start <= 10.0
        assert sum(monotonic.sleeps) == pytest.approx(10.0)

    def test_deadline_counts_time_spent_in_attempts(self, monotonic) -> None:
        """Slow attempts use up the deadline too."""

        def slow() -> str:
            monotonic.sleep(4.0)
            raise TransientError("t", code=2)

        retrier = _retrier(monotonic, attempts=100, timeout=10.0, wait_initial=1.0, wait_max=1.0)
        start = monotonic()
        with pytest.raises(TransientError):
            retrier.call(slow, operation="send")
        assert monotonic() - start <= 10.0 + 4.0

    def test_none_never_retries(self, monotonic) -> None:
        """RetryPolicy.none() makes exactly one attempt, even for retryable errors."""
        fn = Flaky(_rate_limited())
        retrier = Retrier(RetryPolicy.none(), monotonic=monotonic, sleep=monotonic.sleep)
        with pytest.raises(RateLimitError):
            retrier.call(fn, operation="send")
        assert fn.calls == 1

    def test_on_retry_hook_sees_each_retry(self, monotonic) -> None:
        """on_retry gets the operation, attempt number, error and wait before each wait."""
        seen: list[RetryAttempt] = []
        policy = RetryPolicy(attempts=3, wait_initial=1.0, wait_jitter=0.0, on_retry=seen.append)
        first, second = TransientError("a", code=2), _rate_limited("5")
        Retrier(policy, monotonic=monotonic, sleep=monotonic.sleep).call(
            Flaky(first, second), operation="send"
        )
        assert seen == [RetryAttempt("send", 1, first, 1.0), RetryAttempt("send", 2, second, 5.0)]

    def test_logs_one_line_per_retry(self, monotonic, caplog: pytest.LogCaptureFixture) -> None:
        """Each retry logs one line naming the operation, attempt and error kind."""
        caplog.set_level(logging.DEBUG, logger="fmc.transport")
        _retrier(monotonic).call(
            Flaky(_rate_limited(), TransientError("t", code=2)), operation="send"
        )
        lines = [r.getMessage() for r in caplog.records if r.name == "fmc.transport"]
        assert len(lines) == 2
        assert "attempt 1" in lines[0]
        assert "RateLimitError" in lines[0]

    def test_rate_limit_closes_the_shared_gate(self, monotonic) -> None:
        """While one call waits out a rate limit, another call of the client waits as long."""
        other_waits: list[float] = []
        retrier: Retrier

        def other_worker(_: RetryAttempt) -> None:
            other_waits.append(retrier.gate.wait())

        policy = RetryPolicy(attempts=2, wait_jitter=0.0, on_retry=other_worker)
        retrier = Retrier(policy, monotonic=monotonic, sleep=monotonic.sleep)
        retrier.call(Flaky(_rate_limited("9")), operation="send")
        assert other_waits == [9.0]

    def test_transient_error_leaves_the_gate_open(self, monotonic) -> None:
        """Only rate limits pause the other calls; a transient error does not."""
        other_waits: list[float] = []
        retrier: Retrier

        def other_worker(_: RetryAttempt) -> None:
            other_waits.append(retrier.gate.wait())

        policy = RetryPolicy(attempts=2, wait_jitter=0.0, on_retry=other_worker)
        retrier = Retrier(policy, monotonic=monotonic, sleep=monotonic.sleep)
        retrier.call(Flaky(TransientError("t", code=2)), operation="send")
        assert other_waits == [0.0]


class TestBackoffGate:
    def test_open_gate_does_not_sleep(self, monotonic) -> None:
        """Waiting on an open gate returns at once."""
        assert BackoffGate(monotonic=monotonic, sleep=monotonic.sleep).wait() == 0.0
        assert monotonic.sleeps == []

    def test_closed_gate_sleeps_until_open(self, monotonic) -> None:
        """A paused gate sleeps exactly the remaining pause, once."""
        gate = BackoffGate(monotonic=monotonic, sleep=monotonic.sleep)
        gate.pause(2.5)
        monotonic.sleep(0.5)
        assert gate.wait() == pytest.approx(2.0)
        assert gate.wait() == 0.0

    def test_pause_never_shortens(self, monotonic) -> None:
        """A shorter pause does not cut a longer one."""
        gate = BackoffGate(monotonic=monotonic, sleep=monotonic.sleep)
        gate.pause(10.0)
        gate.pause(1.0)
        assert gate.wait() == pytest.approx(10.0)

    def test_calls_in_flight_before_a_pause_do_not_extend_it(self, monotonic) -> None:
        """A throttled call that started before the current pause was decided is stale news."""
        gate = BackoffGate(monotonic=monotonic, sleep=monotonic.sleep)
        sent_before = monotonic()
        monotonic.sleep(0.01)
        gate.pause(1.0, sent_at=monotonic())
        monotonic.sleep(0.5)
        gate.pause(1.0, sent_at=sent_before)
        assert gate.wait() == pytest.approx(0.5)

    def test_calls_started_after_a_pause_extend_it(self, monotonic) -> None:
        """A call started after the latest pause that is throttled again pauses anew."""
        gate = BackoffGate(monotonic=monotonic, sleep=monotonic.sleep)
        gate.pause(1.0, sent_at=monotonic())
        monotonic.sleep(0.5)
        gate.pause(1.0, sent_at=monotonic())
        assert gate.wait() == pytest.approx(1.0)

    def test_retry_after_always_extends(self, monotonic) -> None:
        """Meta's own wait counts even when it comes from a call sent before the pause."""
        gate = BackoffGate(monotonic=monotonic, sleep=monotonic.sleep)
        gate.pause(1.0, sent_at=monotonic())
        gate.pause(30.0)
        assert gate.wait() == pytest.approx(30.0)

    def test_fake_sleep_cannot_make_it_spin(self) -> None:
        """A sleep that does not move the clock gives one sleep call, not a loop."""
        naps: list[float] = []
        gate = BackoffGate(monotonic=lambda: 0.0, sleep=naps.append)
        gate.pause(1.0)
        gate.wait()
        assert naps == [1.0]


class TestSharedPause:
    def test_admission_is_free_while_open(self, monotonic) -> None:
        """An open gate lets a call through at once with a plain ticket."""
        gate = BackoffGate(monotonic=monotonic, sleep=monotonic.sleep)
        assert gate.admission(0.0) == Ticket(monotonic(), probe=False)

    def test_pause_longer_than_budget_is_refused_without_waiting(self, monotonic) -> None:
        """A call whose budget is shorter than the pause gets PageThrottledError, no sleep."""
        gate = BackoffGate(monotonic=monotonic, sleep=monotonic.sleep)
        gate.throttled(_rate_limited("120"))
        with pytest.raises(PageThrottledError) as raised:
            gate.admit(60.0)
        assert monotonic.sleeps == []
        assert raised.value.code == 613

    def test_pause_within_budget_is_slept(self, monotonic) -> None:
        """A pause within the budget is slept out, then the call goes as the probe."""
        gate = BackoffGate(monotonic=monotonic, sleep=monotonic.sleep)
        gate.throttled(_rate_limited("30"))
        ticket, waited = gate.admit(60.0)
        assert (waited, monotonic.sleeps, ticket.probe) == (30.0, [30.0], True)

    def test_one_probe_at_a_time(self, monotonic) -> None:
        """After a pause one call probes; the next waits for its answer."""
        gate = BackoffGate(monotonic=monotonic, sleep=monotonic.sleep)
        gate.throttled(_rate_limited("1"))
        monotonic.sleep(1.0)
        probe = gate.admission(None)
        assert isinstance(probe, Ticket)
        assert probe.probe
        assert gate.admission(None) == Wait(0.05, for_probe=True)
        gate.answered(probe)
        assert gate.admission(None) == Ticket(monotonic(), probe=False)

    def test_waiting_for_a_probe_with_no_budget_is_refused(self, monotonic) -> None:
        """A call that may not wait at all gives up while a probe is out."""
        gate = BackoffGate(monotonic=monotonic, sleep=monotonic.sleep)
        gate.throttled(_rate_limited("1"))
        monotonic.sleep(1.0)
        gate.admission(None)
        with pytest.raises(PageThrottledError):
            gate.admission(0.0)

    def test_throttled_probe_grows_the_pause(self, monotonic) -> None:
        """Each throttled probe without a stated wait doubles the shared pause."""
        policy = RetryPolicy(wait_initial=1.0, wait_max=8.0)
        gate = BackoffGate(monotonic=monotonic, sleep=monotonic.sleep, backoff=policy.backoff)
        pauses = []
        for _ in range(5):
            ticket, _ = gate.admit(None)
            pauses.append(gate.throttled(_rate_limited(), ticket))
        assert pauses == [1.0, 2.0, 4.0, 8.0, 8.0]

    def test_throttles_of_calls_in_flight_do_not_grow_the_pause(self, monotonic) -> None:
        """Calls sent before the pause was decided come back throttled without news."""
        gate = BackoffGate(
            monotonic=monotonic,
            sleep=monotonic.sleep,
            backoff=RetryPolicy(wait_initial=1.0).backoff,
        )
        early = [gate.admission(None) for _ in range(3)]
        monotonic.sleep(0.01)
        pauses = [gate.throttled(_rate_limited(), t) for t in early if isinstance(t, Ticket)]
        assert pauses == [1.0, 1.0, 1.0]

    def test_success_of_a_call_sent_before_the_throttle_does_not_reopen(self, monotonic) -> None:
        """Only an answer to a call sent after the pause was decided proves it is over."""
        gate = BackoffGate(
            monotonic=monotonic,
            sleep=monotonic.sleep,
            backoff=RetryPolicy(wait_initial=1.0).backoff,
        )
        early = gate.admission(None)
        monotonic.sleep(0.01)
        gate.throttled(_rate_limited())
        assert isinstance(early, Ticket)
        gate.answered(early)
        assert not gate.is_open

    def test_rate_limited_call_waits_on_the_gate_not_its_own_backoff(self, monotonic) -> None:
        """A call throttled with Retry-After beyond the deadline but within max_pause is retried."""
        retrier = Retrier(
            RetryPolicy(timeout=30.0, wait_jitter=0.0),
            monotonic=monotonic,
            sleep=monotonic.sleep,
            max_pause=300.0,
        )
        assert retrier.call(Flaky(_rate_limited("120")), operation="send") == "ok"
        assert monotonic.sleeps == [120.0]

    def test_later_calls_of_the_client_are_refused_during_a_long_pause(self, monotonic) -> None:
        """After Meta asks for longer than max_pause, the next call never runs."""
        retrier = Retrier(RetryPolicy(timeout=30.0), monotonic=monotonic, sleep=monotonic.sleep)
        with pytest.raises(RateLimitError):
            retrier.call(Flaky(_rate_limited("3600")), operation="send")
        second = Flaky()
        with pytest.raises(PageThrottledError):
            retrier.call(second, operation="send")
        assert second.calls == 0

    def test_page_throttled_is_never_retried(self) -> None:
        """PageThrottledError is a rate limit, but retrying it would only wait again."""
        error = PageThrottledError("paused", resume_at=datetime.datetime.now(datetime.timezone.utc))
        assert not is_retryable(error)


class TestRetryPolicy:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"attempts": 0},
            {"attempts": 1.5},
            {"timeout": 0},
            {"timeout": -1.0},
            {"wait_initial": -0.1},
            {"wait_jitter": -1},
            {"wait_exp_base": 0.5},
        ],
        ids=[
            "zero-attempts",
            "float-attempts",
            "zero-timeout",
            "negative-timeout",
            "negative-initial",
            "negative-jitter",
            "shrinking-base",
        ],
    )
    def test_rejects_nonsense(self, kwargs: dict[str, object]) -> None:
        """Values that cannot describe a retry policy are refused at construction."""
        with pytest.raises((ValueError, TypeError)):
            RetryPolicy(**kwargs)  # type: ignore[arg-type]

    def test_is_frozen(self) -> None:
        """A policy cannot be changed after construction."""
        with pytest.raises(AttributeError):
            RetryPolicy().attempts = 3  # type: ignore[misc]

    def test_none_has_one_attempt(self) -> None:
        """RetryPolicy.none() is a single attempt without deadline."""
        assert (RetryPolicy.none().attempts, RetryPolicy.none().timeout) == (1, None)

    def test_backoff_overflow_is_capped(self) -> None:
        """A huge attempt number gives wait_max, not an OverflowError."""
        assert RetryPolicy(wait_max=3.0).backoff(100_000) == 3.0

    def test_errors_are_fmc_errors(self) -> None:
        """Every retryable class is an FMCError, so callers can catch one root."""
        assert all(issubclass(c, FMCError) for c in (RateLimitError, TransientError, NetworkError))
