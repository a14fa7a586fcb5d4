"""A thread-safe rate limiter that keeps a Page under Meta's send rate.

Meta allows a Page about 300 text sends a second and counts
each sub-request of a Graph batch separately. :class:`RateLimiter` spaces
sends evenly (a token bucket that refills at the rate, holding ``burst``
tokens) and, on top, checks the exact rule that matters: **no window of one
second ever holds more than ``rate`` starts**, whatever mix of single sends and
batches asks for tokens. A plain token bucket does not guarantee that: a full
bucket plus a second of refill lets ``burst + rate`` sends through in the first
second.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from itertools import repeat

from fmc.transport.clocks import monotonic_argument

__all__ = ["RateLimiter"]


class RateLimiter:
    """Token bucket in sends per second, shared by every thread of a client.

    ``acquire`` reserves the next free slot under a lock and then sleeps until
    that slot, outside the lock: no thread ever spins, and threads start in the
    order they asked.

    The window is widened by ``margin`` (2 % by default): ``rate`` sends are
    spread over 1.02 s instead of 1 s, so that the small, uneven delay between
    a send leaving fmc and reaching Meta (thread wake-up, network jitter of up
    to ``margin`` seconds) cannot crowd 301 sends into one of Meta's seconds.

    Args:
        rate: Sends per second (e.g. ``300.0``). Below 1, one send per
            ``1 / rate`` seconds.
        burst: How many sends may start back to back after an idle spell (the
            bucket's size). The one-second rule holds whatever the burst.
        margin: Fraction by which the window is widened, from 0 to 0.5.
        monotonic: Monotonic time in seconds.
        sleep: Sleeps for the given seconds.
        clock: Deprecated name of ``monotonic`` (one release, with a
            :class:`DeprecationWarning`).

    Raises:
        ValueError: A rate that is not a positive finite number, a burst below
            1 or above the sends allowed per window, or a margin out of range.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        margin: float = 0.02,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] | None = None,
    ) -> None:
        monotonic = monotonic_argument("RateLimiter", monotonic, clock)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise ValueError(f"rate must be a number of sends per second, got {rate!r}")
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive finite number, got {rate!r}")
        if not (0.0 <= margin <= 0.5):
            raise ValueError(f"margin must be between 0 and 0.5, got {margin!r}")
        self.rate = float(rate)
        #: The most sends that may start within one window.
        self.capacity = max(1, int(rate))
        if isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= self.capacity:
            raise ValueError(f"burst must be an integer from 1 to {self.capacity}, got {burst!r}")
        self.burst = burst
        #: Length of the window in seconds that holds at most ``capacity`` starts.
        self.window = max(1.0, self.capacity / self.rate) * (1.0 + margin)
        self._interval = self.window / self.capacity
        self._tolerance = (burst - 1) * self._interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tat = -math.inf
        self._last = -math.inf
        self._starts: deque[float] = deque(maxlen=self.capacity)
        self._started: deque[float] = deque(maxlen=self.capacity)

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self.rate!r}, burst={self.burst!r})"

    def reserve(self, tokens: int = 1) -> float:
        """Reserve ``tokens`` sends and say when they may start, without waiting.

        Args:
            tokens: Sends that will start together (a batch of that many).

        Returns:
            The monotonic time at which the sends may start.

        Raises:
            ValueError: ``tokens`` is below 1 or above :attr:`capacity`.
        """
        if not 1 <= tokens <= self.capacity:
            raise ValueError(f"tokens must be from 1 to {self.capacity}, got {tokens!r}")
        with self._lock:
            start = max(self._monotonic(), self._last, self._tat - self._tolerance)
            starts = self._starts
            allowed_before = self.capacity - tokens
            if len(starts) > allowed_before:
                # The oldest start that would share a window with this one.
                start = max(start, starts[-(allowed_before + 1)] + self.window)
            self._tat = max(self._tat, start) + tokens * self._interval
            self._last = start
            starts.extend(repeat(start, tokens))
        return start

    def acquire(self, tokens: int = 1) -> float:
        """Block until ``tokens`` sends may start.

        Args:
            tokens: Sends that will start together (a batch of that many).

        Returns:
            The seconds this call slept.

        Raises:
            ValueError: ``tokens`` is below 1 or above :attr:`capacity`.
        """
        slept = 0.0
        for seconds in self._waits(tokens):
            self._sleep(seconds)
            slept += seconds
        return slept

    async def acquire_async(
        self, tokens: int = 1, *, sleep: Callable[[float], Awaitable[object]] | None = None
    ) -> float:
        """Wait, without blocking the event loop, until ``tokens`` sends may start.

        The same rules as :meth:`acquire`, shared with every thread and task
        that uses this limiter.

        Args:
            tokens: Sends that will start together (a batch of that many).
            sleep: The coroutine to wait with (``asyncio.sleep`` by default).

        Returns:
            The seconds this call waited.

        Raises:
            ValueError: ``tokens`` is below 1 or above :attr:`capacity`.
        """
        if sleep is None:
            import asyncio

            sleep = asyncio.sleep
        slept = 0.0
        for seconds in self._waits(tokens):
            await sleep(seconds)
            slept += seconds
        return slept

    def _waits(self, tokens: int) -> Iterator[float]:
        """The sleeps before ``tokens`` sends may start, one at a time (sans-I/O).

        The caller sleeps each yielded number of seconds before asking for the
        next; when the iterator ends the sends have started.
        """
        first = self.reserve(tokens) - self._monotonic()
        if first > 0:
            yield first
        while True:
            wait, now = self.start(tokens)
            if wait <= 0:
                return
            yield wait
            if self._monotonic() == now:
                self.start(tokens, force=True)  # a fake sleep that does not move the clock
                return

    def start(self, tokens: int, *, force: bool = False) -> tuple[float, float]:
        """Record that ``tokens`` sends start now, unless that would break the window rule.

        A caller can wake well after its slot (a busy machine stalls the
        process for tens of ms), and sends whose slots passed meanwhile would
        then leave together. So the one-window rule is checked again against
        the times sends really started, and a late send waits its turn.

        Args:
            tokens: Sends that start together.
            force: Record the start whatever the rule says.

        Returns:
            ``(seconds still to wait, now)``; 0 or less means started.
        """
        allowed_before = self.capacity - tokens
        with self._lock:
            now = self._monotonic()
            started = self._started
            wait = 0.0
            if not force and len(started) > allowed_before:
                wait = started[-(allowed_before + 1)] + self.window - now
            if wait <= 0:
                started.extend(repeat(now, tokens))
            return wait, now
