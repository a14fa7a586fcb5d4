"""Retries that are safe for a Send API without idempotency keys.

:class:`RetryPolicy` has stamina's shape (``attempts``, a total ``timeout``,
exponential backoff with jitter) and runs on tenacity, whose types never leak:
when the retries run out, the last typed fmc error is raised unchanged.

What is retried is decided by the *kind* of error alone (:func:`is_retryable`):

* :class:`~fmc.errors.RateLimitError` and :class:`~fmc.errors.TransientError`
  (Meta says try later), waiting at least as long as Meta's headers ask;
* :class:`~fmc.errors.NetworkError`, which the transport raises only when the
  request cannot have reached Meta (DNS failure, refused connection, connect
  timeout) or when the call is idempotent;
* never an :class:`~fmc.errors.AmbiguousSendError` (a send that may have been
  delivered), and never any other, permanent, error.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import tenacity

from fmc.errors import (
    AmbiguousSendError,
    GraphAPIError,
    NetworkError,
    RateLimitError,
    TransientError,
)

__all__ = ["BackoffGate", "Retrier", "RetryAttempt", "RetryPolicy", "is_retryable"]

T = TypeVar("T")

_log = logging.getLogger("fmc.transport")


def _positive_or_none(instance: object, attribute: Any, value: object) -> None:
    if value is not None and not (isinstance(value, (int, float)) and value > 0):
        raise ValueError(
            f"{attribute.name} must be a positive number of seconds or None, got {value!r}"
        )


@attrs.frozen
class RetryAttempt:
    """What the ``on_retry`` hook of a :class:`RetryPolicy` is told before each wait.

    Attributes:
        operation: What was being done, e.g. ``"send"`` or ``"batch"``.
        attempt: The number of the attempt that just failed (1 for the first).
        error: The typed fmc error that attempt raised.
        wait: Seconds fmc will wait before the next attempt.
    """

    operation: str
    attempt: int
    error: Exception
    wait: float


@attrs.frozen
class RetryPolicy:
    """How often and how long fmc retries a call that failed in a retryable way.

    The wait before attempt *n + 1* is
    ``min(wait_max, wait_initial * wait_exp_base ** (n - 1)) + uniform(0, wait_jitter)``,
    raised to Meta's own ``Retry-After`` / ``estimated_time_to_regain_access``
    when the error carries one. No wait runs past the deadline: a backoff is
    shortened to fit, and when Meta asks for longer than the time left, fmc
    gives up at once with Meta's error.

    The defaults make 6 attempts within 45 s, waiting 0.1 s, 0.2 s, 0.4 s …
    (at most 10 s) plus up to 0.5 s of jitter between them.

    Attributes:
        attempts: Total attempts, the first included (1 means never retry).
        timeout: Total deadline in seconds for all attempts and waits, or ``None``.
        wait_initial: Backoff before the second attempt, in seconds.
        wait_max: Upper bound of the exponential part of the backoff.
        wait_jitter: Upper bound of the random seconds added to each backoff.
        wait_exp_base: Growth factor of the backoff per attempt.
        on_retry: Called with a :class:`RetryAttempt` before each wait.
    """

    attempts: int = attrs.field(
        default=6, validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)]
    )
    timeout: float | None = attrs.field(default=45.0, validator=_positive_or_none)
    wait_initial: float = attrs.field(default=0.1, validator=attrs.validators.ge(0))
    wait_max: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))
    wait_jitter: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    wait_exp_base: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    on_retry: Callable[[RetryAttempt], object] | None = attrs.field(default=None, eq=False)

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries: every error is raised at its first occurrence."""
        return cls(attempts=1, timeout=None, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0)

    def backoff(self, attempt: int) -> float:
        """The backoff after failed attempt number ``attempt``, without jitter.

        Args:
            attempt: The number of the attempt that failed, starting at 1.

        Returns:
            Seconds to wait, at most ``wait_max``.
        """
        exponent = max(0, attempt - 1)
        try:
            grown = self.wait_initial * self.wait_exp_base**exponent
        except OverflowError:
            grown = self.wait_max
        return min(self.wait_max, grown)


def is_retryable(error: BaseException) -> bool:
    """Whether an fmc error may be retried without risking a duplicate send.

    Args:
        error: An exception raised by one attempt.

    Returns:
        ``True`` for rate limits, transient Graph errors and network errors that
        cannot have reached Meta; ``False`` for ambiguous sends and for every
        permanent error.
    """
    if isinstance(error, AmbiguousSendError):
        return False
    return isinstance(error, (RateLimitError, TransientError, NetworkError))


class BackoffGate:
    """A pause shared by every thread of a client while Meta throttles it.

    When one call is rate limited, every other call of the same client waits
    for the same pause before it starts, instead of each hammering Meta and
    collecting its own rate-limit error. Waiting sleeps; it never spins.

    Calls that were already in flight when a pause began carry no news when
    they come back throttled too, so they do not extend it; only a call
    started after the latest pause was decided does (or Meta's own
    ``Retry-After``, which always counts).

    Args:
        clock: Monotonic clock in seconds.
        sleep: Sleeps for the given seconds.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._until = 0.0
        self._decided_at = -math.inf

    def pause(self, seconds: float, *, sent_at: float | None = None) -> None:
        """Close the gate for ``seconds`` from now (never shortening a longer pause).

        Args:
            seconds: How long new calls must wait.
            sent_at: When the throttled call started; a call started before
                the latest pause was decided does not extend it. ``None``
                (Meta said how long to wait) always counts.
        """
        if seconds <= 0:
            return
        with self._lock:
            if sent_at is not None and sent_at < self._decided_at:
                return
            now = self._clock()
            if now + seconds > self._until:
                self._until = now + seconds
                self._decided_at = now

    def wait(self) -> float:
        """Sleep until the gate is open.

        Returns:
            The seconds slept (0.0 when the gate was open).
        """
        slept = 0.0
        while True:
            until = self._until
            remaining = until - self._clock()
            if remaining <= 0:
                return slept
            self._sleep(remaining)
            slept += remaining
            if self._until == until:
                # Not extended while we slept: open now (no re-check loop, so
                # a fake sleep that does not move the clock cannot spin).
                return slept


class Retrier:
    """Runs a call under a :class:`RetryPolicy`, on tenacity.

    The first attempt runs directly, with no retry machinery, so a call that
    succeeds costs nothing extra; tenacity takes over only after a retryable
    failure.

    Args:
        policy: The retry policy.
        clock: Monotonic clock in seconds, for the deadline.
        sleep: Sleeps between attempts (tests inject a fake).
        gate: The client's shared pause, closed on rate limits.
        rng: Source of jitter.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        gate: BackoffGate | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._sleep = sleep
        self.gate = gate if gate is not None else BackoffGate(clock=clock, sleep=sleep)
        self._rng = rng if rng is not None else random.Random()

    def call(self, fn: Callable[[], T], *, operation: str) -> T:
        """Call ``fn`` until it succeeds, fails permanently, or the policy gives up.

        Args:
            fn: One attempt; raises typed fmc errors.
            operation: A name for log lines and the ``on_retry`` hook.

        Returns:
            What ``fn`` returned.

        Raises:
            Exception: The error of the last attempt, unchanged.
        """
        started = self._clock()
        try:
            return fn()
        except Exception as exc:
            if self.policy.attempts <= 1 or not is_retryable(exc):
                raise
            first = exc
        return self._retry(fn, first, started, operation)

    def _retry(self, fn: Callable[[], T], first: Exception, started: float, operation: str) -> T:
        policy = self.policy
        replay: list[Exception] = [first]
        sent_at = started

        def attempt() -> T:
            nonlocal sent_at
            # Attempt 1 already ran in call(); hand its error to tenacity so
            # that attempt numbers, waits and the deadline count it.
            if replay:
                raise replay.pop()
            sent_at = self._clock()
            return fn()

        def remaining() -> float | None:
            if policy.timeout is None:
                return None
            return policy.timeout - (self._clock() - started)

        def wait(state: tenacity.RetryCallState) -> float:
            error = _outcome_error(state)
            backoff = policy.backoff(state.attempt_number)
            if policy.wait_jitter:
                backoff += self._rng.uniform(0.0, policy.wait_jitter)
            left = remaining()
            if left is not None:
                backoff = min(backoff, max(0.0, left))
            asked = error.retry_after if isinstance(error, GraphAPIError) else None
            return max(backoff, asked) if asked else backoff

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= policy.attempts:
                return True
            left = remaining()
            return left is not None and (left <= 0 or state.upcoming_sleep > left)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = _outcome_error(state)
            seconds = state.upcoming_sleep
            if isinstance(error, RateLimitError):
                asked = error.retry_after
                if asked:
                    self.gate.pause(asked)
                else:
                    self.gate.pause(policy.backoff(state.attempt_number), sent_at=sent_at)
            _log.info(
                "retrying %s after attempt %d failed with %s (code=%s); waiting %.3fs",
                operation,
                state.attempt_number,
                type(error).__name__,
                getattr(error, "code", None),
                seconds,
            )
            if policy.on_retry is not None:
                policy.on_retry(RetryAttempt(operation, state.attempt_number, error, seconds))

        def sleep(seconds: float) -> None:
            self._sleep(seconds)

        retrying = tenacity.Retrying(
            sleep=sleep,
            stop=stop,
            wait=wait,
            retry=tenacity.retry_if_exception(is_retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(attempt)


def _outcome_error(state: tenacity.RetryCallState) -> Exception:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if not isinstance(error, Exception):  # pragma: no cover - tenacity only retries on errors here
        raise RuntimeError("retry state without an error")
    return error
