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

import functools
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
    "RetryRules",
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


class _Named:
    """An attempt function with the operation name the retry log shows."""

    __slots__ = ("fn", "operation")

    def __init__(self, fn: Callable[[], Any], operation: str) -> None:
        self.fn = fn
        self.operation = operation

    def __call__(self) -> Any:
        return self.fn()


class _Call:
    """One call's own state, handed to tenacity as the attempt's argument."""

    __slots__ = ("budget", "fn", "started")

    def __init__(self, fn: Callable[[], Any], started: float, budget: float | None) -> None:
        self.fn = fn
        self.started = started
        #: Seconds the call may still wait on the shared pause (``None``: no limit).
        self.budget = budget

    def spend(self, seconds: float) -> None:
        if self.budget is not None and seconds:
            self.budget = max(0.0, self.budget - seconds)


def _call_of(state: tenacity.RetryCallState) -> _Call:
    call = state.args[0]
    if not isinstance(call, _Call):  # pragma: no cover - every attempt gets its _Call
        raise TypeError("retry state without its call")
    return call


def _outcome_error(state: tenacity.RetryCallState) -> Exception:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if not isinstance(error, Exception):  # pragma: no cover - tenacity only retries on errors here
        raise RuntimeError("retry state without an error")
    return error


class _Jitter(tenacity.wait.wait_base):
    """Up to ``jitter`` random seconds, from an injectable generator."""

    def __init__(self, rng: random.Random, jitter: float) -> None:
        self._rng = rng
        self._jitter = jitter

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return self._rng.uniform(0.0, self._jitter) if self._jitter else 0.0


class _Backoff(tenacity.wait.wait_base):
    """The policy's backoff for errors that are not throttles, cut to the deadline.

    A throttled call waits 0 here: its next attempt waits on the shared gate.
    """

    def __init__(self, rules: RetryRules, inner: tenacity.wait.wait_base) -> None:
        self._rules = rules
        self._inner = inner

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        if isinstance(_outcome_error(retry_state), RateLimitError):
            return 0.0
        seconds = float(self._inner(retry_state))
        left = self._rules.time_left(_call_of(retry_state))
        return seconds if left is None else min(seconds, max(0.0, left))


class _StopPastLimit(tenacity.stop.stop_base):
    """Stop when a throttle outlasts the call's pause budget, or the next wait the deadline."""

    def __init__(self, rules: RetryRules) -> None:
        self._rules = rules

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        call = _call_of(retry_state)
        if isinstance(_outcome_error(retry_state), RateLimitError):
            return call.budget is not None and self._rules.gate.remaining() > call.budget
        left = self._rules.time_left(call)
        return left is not None and (left <= 0 or retry_state.upcoming_sleep > left)


def _nap(sleep: Callable[[float], object], seconds: float) -> None:
    if seconds > 0:
        sleep(seconds)


class RetryRules:
    """What both drivers share: the policy, the gate, the deadline, and tenacity's pieces.

    Tenacity is used the way its documentation shows: ``stop_after_attempt``
    composed with a deadline-and-pause stop, ``wait_exponential`` plus a
    jitter, ``retry_if_exception(is_retryable)``, a ``before_sleep`` hook and
    ``reraise=True``, so that the last typed fmc error escapes, never
    ``RetryError``.

    Args:
        policy: The retry policy.
        monotonic: Monotonic time in seconds, for the deadline.
        gate: The client's shared pause; a new one when ``None``.
        rng: Source of jitter.
        max_pause: Seconds a call may wait, in total, on the shared pause;
            ``None`` takes the policy's ``timeout`` (no limit when that is
            ``None`` too); ``math.inf`` waits as long as Meta asks.
        sleep: Sleeps for the sync gate and between the sync driver's
            attempts (threads).
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        gate: BackoffGate | None = None,
        rng: random.Random | None = None,
        max_pause: float | None = None,
    ) -> None:
        self.policy = policy
        self._monotonic = monotonic
        if gate is None:
            gate = BackoffGate(monotonic=monotonic, sleep=sleep, backoff=policy.backoff)
        self.gate = gate
        pause = policy.timeout if max_pause is None else max_pause
        self.max_pause: float | None = None if pause is None or math.isinf(pause) else pause
        self._rng = rng if rng is not None else random.Random()
        self.stop: tenacity.stop.stop_base = tenacity.stop_after_attempt(
            policy.attempts
        ) | _StopPastLimit(self)
        self.wait: tenacity.wait.wait_base = _Backoff(
            self,
            tenacity.wait_exponential(
                multiplier=policy.wait_initial, max=policy.wait_max, exp_base=policy.wait_exp_base
            )
            + _Jitter(self._rng, policy.wait_jitter),
        )
        self.retry = tenacity.retry_if_exception(is_retryable)
        # The composed strategies as one tenacity.Retrying: the sync driver
        # runs calls with it; the async one only names it as its call states' owner.
        self._retrying = tenacity.Retrying(
            sleep=functools.partial(_nap, sleep),
            stop=self.stop,
            wait=self.wait,
            retry=self.retry,
            before_sleep=self.before_sleep,
            reraise=True,
        )

    def start(self, fn: Callable[[], Any], operation: str) -> _Call:
        """The state of a new call of ``fn`` (named ``operation`` in logs)."""
        return _Call(_Named(fn, operation), self._monotonic(), self.max_pause)

    def time_left(self, call: _Call) -> float | None:
        """Seconds left before the call's deadline (``None``: no deadline)."""
        if self.policy.timeout is None:
            return None
        return self.policy.timeout - (self._monotonic() - call.started)

    def before_sleep(self, retry_state: tenacity.RetryCallState) -> None:
        """Log the retry and tell the policy's ``on_retry`` hook."""
        error = _outcome_error(retry_state)
        seconds = (
            self.gate.remaining()
            if isinstance(error, RateLimitError)
            else retry_state.upcoming_sleep
        )
        operation = getattr(_call_of(retry_state).fn, "operation", None) or "call"
        _log.info(
            "retrying %s after attempt %d failed with %s (code=%s); waiting %.3fs",
            operation,
            retry_state.attempt_number,
            type(error).__name__,
            getattr(error, "code", None),
            seconds,
        )
        if self.policy.on_retry is not None:
            self.policy.on_retry(
                RetryAttempt(operation, retry_state.attempt_number, error, seconds)
            )

    def record(self, ticket: Ticket, error: BaseException | None) -> None:
        """Tell the gate how an attempt ended (``None``: Meta answered normally)."""
        if error is None:
            self.gate.answered(ticket)
        elif isinstance(error, RateLimitError):
            self.gate.throttled(error, ticket)
        elif isinstance(error, GraphAPIError):
            self.gate.answered(ticket)
        else:
            self.gate.released(ticket)


class Retrier(RetryRules):
    """Runs a call under the retry policy and the client's :class:`BackoffGate` (threads).

    Every attempt first passes the gate (waiting out a shared pause, or
    raising :class:`~fmc.errors.PageThrottledError` when it is longer than the
    call's ``max_pause``), then reports its answer to it. A rate-limited call
    waits on the gate; any other retryable failure waits its backoff, bounded
    by the policy's deadline. One ``tenacity.Retrying`` serves every thread
    (its state is thread-local).

    Args:
        policy: The retry policy.
        monotonic: Monotonic time in seconds, for the deadline.
        sleep: Sleeps between attempts (tests inject a fake).
        gate: The client's shared pause; a new one when ``None``.
        rng: Source of jitter.
        max_pause: See :class:`RetryRules`.
    """

    def call(self, fn: Callable[[], T], *, operation: str) -> T:
        """Call ``fn`` until it succeeds, fails permanently, or the policy gives up.

        Args:
            fn: One attempt (one HTTP request); raises typed fmc errors.
            operation: A name for log lines and the ``on_retry`` hook.

        Returns:
            What ``fn`` returned.

        Raises:
            PageThrottledError: The client is paused for longer than the
                call may wait; no request was sent for this attempt.
            Exception: The error of the last attempt, unchanged.
        """
        result: T = self._retrying(self._attempt, self.start(fn, operation))
        return result

    def _attempt(self, call: _Call) -> Any:
        ticket, waited = self.gate.admit(call.budget)
        call.spend(waited)
        try:
            result = call.fn()
        except BaseException as exc:
            self.record(ticket, exc)
            raise
        self.record(ticket, None)
        return result
