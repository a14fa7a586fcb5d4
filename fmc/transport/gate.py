"""The pause a whole client shares while Meta throttles the Page.

See :class:`BackoffGate`. The decisions are bookkeeping over values under a
lock (no I/O); :meth:`BackoffGate.admit` is the blocking driver for threads and
the asyncio driver awaits the same :class:`Wait` values.
"""

from __future__ import annotations

import datetime
import math
import threading
import time
from collections.abc import Callable

import attrs

from fmc.errors import PageThrottledError, RateLimitError
from fmc.transport.clocks import utc_now

__all__ = ["BackoffGate", "Ticket", "Wait"]


def _default_backoff(throttles: int) -> float:
    # RetryPolicy()'s defaults: 0.1 s doubling up to 10 s.
    return float(min(10.0, 0.1 * 2 ** min(max(0, throttles - 1), 16)))


@attrs.frozen
class Ticket:
    """A call's admission through a :class:`BackoffGate`.

    Attributes:
        sent_at: The gate's monotonic time when the call was let through.
        probe: Whether the call is the one probe sent while Meta throttles.
    """

    sent_at: float
    probe: bool = False


@attrs.frozen
class Wait:
    """The gate's answer to a call that may not go yet.

    Attributes:
        seconds: How long to wait before asking again.
        for_probe: The pause is over but one probe is out: wait for its answer.
    """

    seconds: float
    for_probe: bool = False


class BackoffGate:
    """One pause shared by every call of a client while Meta throttles the Page.

    When a call is throttled, the gate closes for every call of the client, in
    every thread: for as long as Meta asks (``Retry-After`` or
    ``estimated_time_to_regain_access`` in the usage headers), or, when Meta
    does not say, for a backoff that grows with each throttled answer to a call
    sent after the previous pause was decided. No request goes out while it is
    closed. When the pause ends, one call goes first as a *probe*; the others
    wait for its answer, so a throttle that persists costs one request per
    pause, not one per waiting call. An answer that is not a throttle reopens
    the gate fully.

    A call may wait at most its budget (the client's ``max_pause``); when the
    pause outlasts it the call raises :class:`~fmc.errors.PageThrottledError`
    at once, without a request.

    The decisions (:meth:`admission`, :meth:`throttled`, :meth:`answered`)
    are pure bookkeeping under a lock; :meth:`admit` is the blocking driver for
    threads, and the asyncio driver awaits the same :class:`Wait` values.

    Args:
        monotonic: Monotonic time in seconds.
        sleep: Sleeps for the given seconds.
        backoff: The pause after the n-th throttle in a row without a stated
            wait (the retry policy's :meth:`~fmc.transport.RetryPolicy.backoff`).
        wall_clock: Aware UTC now, for :attr:`PageThrottledError.resume_at`.
        probe_poll: Seconds between checks while a probe is out.
    """

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        backoff: Callable[[int], float] | None = None,
        wall_clock: Callable[[], datetime.datetime] = utc_now,
        probe_poll: float = 0.05,
    ) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._backoff = backoff if backoff is not None else _default_backoff
        self._wall_clock = wall_clock
        self._probe_poll = probe_poll
        self._lock = threading.Lock()
        self._probe_done = threading.Condition(self._lock)
        self._until = 0.0
        self._decided_at = -math.inf
        self._level = 0
        self._probing = False
        self._probe_out = False
        self._cause: RateLimitError | None = None

    def __repr__(self) -> str:
        return f"BackoffGate(remaining={self.remaining():.3f}, probing={self._probing})"

    # -- reading ------------------------------------------------------------------------------

    def remaining(self) -> float:
        """Seconds left in the current pause (0.0 when none)."""
        return max(0.0, self._until - self._monotonic())

    @property
    def is_open(self) -> bool:
        """Whether a call would go at once, without waiting or probing."""
        return not self._probing and self._until <= self._monotonic()

    # -- decisions ----------------------------------------------------------------------------

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
            self._extend(seconds, sent_at)

    def _extend(self, seconds: float, sent_at: float | None) -> bool:
        if sent_at is not None and sent_at < self._decided_at:
            return False
        now = self._monotonic()
        if now + seconds > self._until:
            self._until = now + seconds
            self._decided_at = now
            return True
        return False

    def admission(
        self, budget: float | None = None, *, served: float | None = None
    ) -> Ticket | Wait:
        """Decide whether a call may go now.

        Args:
            budget: Seconds the call may still wait; ``None`` for no limit.
            served: The pause end (:meth:`pause_end`) the caller already
                slept out: it counts as over even if the clock did not move
                (a fake sleep must not make a caller spin).

        Returns:
            A :class:`Ticket` to go now (hand it back to :meth:`throttled`,
            :meth:`answered` or :meth:`released`), or a :class:`Wait`.

        Raises:
            PageThrottledError: The pause outlasts ``budget``.
        """
        now = self._monotonic()
        if not self._probing and self._until <= now:
            return Ticket(now)
        with self._lock:
            remaining = self._until - now
            if remaining > 0 and self._until != served:
                if budget is not None and remaining > budget:
                    raise self._refusal(now, remaining)
                return Wait(remaining)
            if not self._probing:
                return Ticket(now)
            if not self._probe_out:
                self._probe_out = True
                return Ticket(now, probe=True)
            if budget is not None and budget <= 0:
                raise self._refusal(now, self._backoff(self._level + 1))
            return Wait(self._probe_poll if budget is None else min(self._probe_poll, budget), True)

    def pause_end(self) -> float:
        """The monotonic time at which the current pause ends (for ``served``)."""
        return self._until

    def throttled(self, error: RateLimitError, ticket: Ticket | None = None) -> float:
        """Record a throttled answer; the pause it puts the whole client in.

        Args:
            error: Meta's rate-limit error, with its usage headers.
            ticket: The call's admission (``None``: a call outside the gate).

        Returns:
            Seconds until the gate reopens.
        """
        asked = error.retry_after
        with self._lock:
            sent_at = ticket.sent_at if ticket is not None else None
            if asked:
                self._extend(asked, None)
            elif sent_at is None or sent_at >= self._decided_at:
                self._level += 1
                self._extend(self._backoff(self._level), None)
            self._probing = True
            self._cause = error
            self._release(ticket)
            return max(0.0, self._until - self._monotonic())

    def answered(self, ticket: Ticket) -> None:
        """Record an answer that was not a throttle (a success or another error).

        Args:
            ticket: The call's admission.
        """
        if ticket.probe or self._probing or self._level:
            with self._lock:
                if ticket.sent_at >= self._decided_at:
                    self._level = 0
                    self._probing = False
                self._release(ticket)

    def released(self, ticket: Ticket) -> None:
        """Record a call that got no answer (it tells nothing about the throttle).

        Args:
            ticket: The call's admission.
        """
        if ticket.probe:
            with self._lock:
                self._release(ticket)

    def _release(self, ticket: Ticket | None) -> None:
        if ticket is not None and ticket.probe:
            self._probe_out = False
            self._probe_done.notify_all()

    def _refusal(self, now: float, seconds: float) -> PageThrottledError:
        cause = self._cause
        resume_at = self._wall_clock() + datetime.timedelta(seconds=max(0.0, seconds))
        return PageThrottledError(
            f"Meta throttled this Page; pausing all calls for {seconds:.1f}s, longer than "
            "this call may wait (max_pause); no request was sent",
            resume_at=resume_at,
            code=cause.code if cause is not None else None,
            subcode=cause.subcode if cause is not None else None,
            type=cause.type if cause is not None else None,
            usage=cause.usage if cause is not None else None,
        )

    # -- the blocking driver ------------------------------------------------------------------

    def admit(self, budget: float | None = None) -> tuple[Ticket, float]:
        """Block until the call may go (threads).

        Args:
            budget: Seconds the call may wait; ``None`` for no limit.

        Returns:
            The ticket, and the seconds waited.

        Raises:
            PageThrottledError: The pause outlasts ``budget``.
        """
        waited = 0.0
        served: float | None = None
        while True:
            left = None if budget is None else budget - waited
            step = self.admission(left, served=served)
            if isinstance(step, Ticket):
                return step, waited
            if step.for_probe:
                started = self._monotonic()
                with self._lock:
                    if self._probe_out:
                        self._probe_done.wait(step.seconds)
                waited += max(0.0, self._monotonic() - started)
                if budget is not None and self._monotonic() == started:
                    waited += step.seconds  # a fake clock: count the wait anyway
            else:
                served = self.pause_end()
                self._sleep(step.seconds)
                waited += step.seconds

    def wait(self) -> float:
        """Sleep until the current pause is over (no probing, no limit).

        Returns:
            The seconds slept (0.0 when the gate was open).
        """
        slept = 0.0
        while True:
            until = self._until
            remaining = until - self._monotonic()
            if remaining <= 0:
                return slept
            self._sleep(remaining)
            slept += remaining
            if self._until == until:
                # Not extended while we slept: open now (no re-check loop, so
                # a fake sleep that does not move the clock cannot spin).
                return slept
