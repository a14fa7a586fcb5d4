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
import time
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import tenacity

from fmc.errors import (
    AmbiguousSendError,
    GraphAPIError,
    NetworkError,
    PageThrottledError,
    RateLimitError,
    TransientError,
)
from fmc.transport.gate import BackoffGate, Ticket, Wait

__all__ = [
    "BackoffGate",
    "Retrier",
    "RetryAttempt",
    "RetryPolicy",
    "Ticket",
    "Wait",
    "is_retryable",
]

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
    if isinstance(error, (AmbiguousSendError, PageThrottledError)):
        return False
    return isinstance(error, (RateLimitError, TransientError, NetworkError))


class Retrier:
    """Runs a call under a :class:`RetryPolicy` and the client's :class:`BackoffGate`, on tenacity.

    Every attempt first passes the gate (waiting out a shared pause, or
    raising :class:`~fmc.errors.PageThrottledError` when the pause is longer
    than ``max_pause``), then reports its answer to it. The first attempt runs
    directly, with no retry machinery, so a call that succeeds costs nothing
    extra; tenacity takes over only after a retryable failure.

    Waits: a rate-limited call waits on the shared gate (bounded by
    ``max_pause`` in total); any other retryable failure waits its backoff
    (bounded by the policy's deadline).

    Args:
        policy: The retry policy.
        clock: Monotonic clock in seconds, for the deadline.
        sleep: Sleeps between attempts (tests inject a fake).
        gate: The client's shared pause; a new one when ``None``.
        rng: Source of jitter.
        max_pause: Seconds a call may wait, in total, on the shared pause;
            ``None`` takes the policy's ``timeout`` (no limit when that is
            ``None`` too); ``math.inf`` waits as long as Meta asks.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        gate: BackoffGate | None = None,
        rng: random.Random | None = None,
        max_pause: float | None = None,
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._sleep = sleep
        self.gate = (
            gate
            if gate is not None
            else BackoffGate(clock=clock, sleep=sleep, backoff=policy.backoff)
        )
        self._rng = rng if rng is not None else random.Random()
        pause = policy.timeout if max_pause is None else max_pause
        self.max_pause: float | None = None if pause is None or math.isinf(pause) else pause

    def call(self, fn: Callable[[], T], *, operation: str) -> T:
        """Call ``fn`` until it succeeds, fails permanently, or the policy gives up.

        Args:
            fn: One attempt (one HTTP request); raises typed fmc errors.
            operation: A name for log lines and the ``on_retry`` hook.

        Returns:
            What ``fn`` returned.

        Raises:
            PageThrottledError: The client is paused for longer than
                ``max_pause``; no request was sent for this attempt.
            Exception: The error of the last attempt, unchanged.
        """
        started = self._clock()
        budget = _Budget(self.max_pause)
        gate = self.gate

        def guarded() -> T:
            ticket, waited = gate.admit(budget.left)
            budget.spend(waited)
            try:
                result = fn()
            except RateLimitError as exc:
                gate.throttled(exc, ticket)
                raise
            except GraphAPIError:
                gate.answered(ticket)
                raise
            except BaseException:
                gate.released(ticket)
                raise
            gate.answered(ticket)
            return result

        try:
            return guarded()
        except Exception as exc:
            if self.policy.attempts <= 1 or not is_retryable(exc):
                raise
            first = exc
        return self._retry(guarded, first, started, operation, budget)

    def _retry(
        self,
        fn: Callable[[], T],
        first: Exception,
        started: float,
        operation: str,
        budget: _Budget,
    ) -> T:
        policy = self.policy
        replay: list[Exception] = [first]
        gate = self.gate

        def attempt() -> T:
            # Attempt 1 already ran in call(); hand its error to tenacity so
            # that attempt numbers, waits and the deadline count it.
            if replay:
                raise replay.pop()
            return fn()

        def remaining() -> float | None:
            if policy.timeout is None:
                return None
            return policy.timeout - (self._clock() - started)

        def wait(state: tenacity.RetryCallState) -> float:
            if isinstance(_outcome_error(state), RateLimitError):
                return 0.0  # the next attempt waits on the shared gate
            backoff = policy.backoff(state.attempt_number)
            if policy.wait_jitter:
                backoff += self._rng.uniform(0.0, policy.wait_jitter)
            left = remaining()
            return backoff if left is None else min(backoff, max(0.0, left))

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= policy.attempts:
                return True
            if isinstance(_outcome_error(state), RateLimitError):
                left_to_pause = budget.left
                return left_to_pause is not None and gate.remaining() > left_to_pause
            left = remaining()
            return left is not None and (left <= 0 or state.upcoming_sleep > left)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = _outcome_error(state)
            seconds = (
                gate.remaining() if isinstance(error, RateLimitError) else state.upcoming_sleep
            )
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
            if seconds > 0:
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


class _Budget:
    """Seconds a call may still spend waiting on the shared pause."""

    __slots__ = ("left",)

    def __init__(self, total: float | None) -> None:
        self.left = total

    def spend(self, seconds: float) -> None:
        if self.left is not None and seconds:
            self.left = max(0.0, self.left - seconds)


def _outcome_error(state: tenacity.RetryCallState) -> Exception:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if not isinstance(error, Exception):  # pragma: no cover - tenacity only retries on errors here
        raise RuntimeError("retry state without an error")
    return error
