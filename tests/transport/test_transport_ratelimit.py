"""The rate limiter: never more than `rate` sends in any one-second window, no spinning."""

from __future__ import annotations

import bisect
import itertools
import math
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fmc.transport import RateLimiter


def max_in_window(starts: list[tuple[float, int]], window: float = 1.0) -> int:
    """The largest number of tokens whose start falls in any half-open window."""
    times = sorted(t for t, n in starts for _ in range(n))
    best = 0
    for i, t in enumerate(times):
        j = bisect.bisect_left(times, t + window)
        best = max(best, j - i)
    return best


class FrozenMonotonic:
    """A clock that moves only when slept on; for single-threaded limiter runs."""

    def __init__(self) -> None:
        self.now = 50.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def run(
    limiter: RateLimiter, monotonic: FrozenMonotonic, sizes: list[int]
) -> list[tuple[float, int]]:
    starts = []
    for size in sizes:
        limiter.acquire(size)
        starts.append((monotonic(), size))
    return starts


class TestWindow:
    def test_first_send_does_not_wait(self) -> None:
        """An idle limiter lets the first send start at once."""
        monotonic = FrozenMonotonic()
        assert RateLimiter(300, monotonic=monotonic, sleep=monotonic.sleep).acquire() == 0.0
        assert monotonic.sleeps == []

    def test_steady_rate_is_close_to_the_limit(self) -> None:
        """3,000 sends at 300/s run at 95 % or more of 300/s."""
        monotonic = FrozenMonotonic()
        limiter = RateLimiter(300, monotonic=monotonic, sleep=monotonic.sleep)
        starts = run(limiter, monotonic, [1] * 3000)
        elapsed = starts[-1][0] - starts[0][0]
        assert 3000 / elapsed >= 0.95 * 300

    def test_no_window_over_rate_for_single_sends(self) -> None:
        """No one-second window holds more than 300 of 3,000 sends."""
        monotonic = FrozenMonotonic()
        starts = run(
            RateLimiter(300, monotonic=monotonic, sleep=monotonic.sleep), monotonic, [1] * 3000
        )
        assert max_in_window(starts) <= 300

    def test_full_bucket_does_not_double_the_first_second(self) -> None:
        """A large burst allowance still keeps the first second at the rate."""
        monotonic = FrozenMonotonic()
        limiter = RateLimiter(100, burst=100, monotonic=monotonic, sleep=monotonic.sleep)
        starts = run(limiter, monotonic, [1] * 400)
        assert max_in_window(starts) <= 100

    def test_burst_lets_sends_start_back_to_back(self) -> None:
        """With burst=10, ten sends after an idle spell start without waiting."""
        monotonic = FrozenMonotonic()
        limiter = RateLimiter(100, burst=10, monotonic=monotonic, sleep=monotonic.sleep)
        run(limiter, monotonic, [1] * 10)
        assert monotonic.sleeps == []

    def test_mixed_batches_never_exceed_the_rate(self) -> None:
        """A single send followed by big batches cannot crowd one window (token bucket trap)."""
        monotonic = FrozenMonotonic()
        limiter = RateLimiter(300, monotonic=monotonic, sleep=monotonic.sleep)
        starts = run(limiter, monotonic, [1, 299, 50, 1, 300, 7, 50, 50, 50, 50, 50, 50, 50])
        assert max_in_window(starts) <= 300

    @settings(max_examples=60)
    @given(
        rate=st.integers(min_value=1, max_value=400),
        plan=st.lists(
            st.tuples(st.floats(min_value=0.0, max_value=1.0), st.integers(1, 400)),
            min_size=1,
            max_size=120,
        ),
    )
    def test_any_mix_of_gaps_and_sizes_keeps_every_window(
        self, rate: int, plan: list[tuple[float, int]]
    ) -> None:
        """Whatever the idle gaps and batch sizes, no one-second window exceeds the rate."""
        monotonic = FrozenMonotonic()
        limiter = RateLimiter(
            rate, burst=max(1, rate // 3), monotonic=monotonic, sleep=monotonic.sleep
        )
        starts = []
        for gap, size in plan:
            monotonic.now += gap
            tokens = min(size, limiter.capacity)
            limiter.acquire(tokens)
            starts.append((monotonic(), tokens))
        assert max_in_window(starts) <= rate

    def test_fractional_rate_below_one(self) -> None:
        """rate=0.5 lets one send start every two seconds (plus the margin)."""
        monotonic = FrozenMonotonic()
        starts = run(
            RateLimiter(0.5, monotonic=monotonic, sleep=monotonic.sleep), monotonic, [1] * 4
        )
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(starts)]
        assert all(gap == pytest.approx(2.04) for gap in gaps)
        assert max_in_window(starts, 2.0) <= 1

    def test_blocked_acquire_sleeps_once(self) -> None:
        """A waiting acquire sleeps one computed interval; it never polls."""
        monotonic = FrozenMonotonic()
        limiter = RateLimiter(10, monotonic=monotonic, sleep=monotonic.sleep)
        run(limiter, monotonic, [1] * 50)
        assert len(monotonic.sleeps) == 49


class TestThreads:
    def test_concurrent_reservations_keep_the_window(self) -> None:
        """Eight threads reserving at once get slots that respect the rate, none lost."""
        limiter = RateLimiter(200, monotonic=lambda: 0.0, sleep=lambda _: None)
        slots: list[float] = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def worker() -> None:
            barrier.wait()
            mine = [limiter.reserve() for _ in range(250)]
            with lock:
                slots.extend(mine)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(slots) == 2000
        assert len(set(slots)) == 2000
        assert max_in_window([(s, 1) for s in slots]) <= 200

    def test_real_clock_threads_are_held_to_the_rate(self) -> None:
        """With the real clock and sleep, 60 sends from four threads at 100/s take ≥ 0.59 s."""
        limiter = RateLimiter(100)
        starts: list[float] = []
        lock = threading.Lock()

        def worker() -> None:
            for _ in range(15):
                limiter.acquire()
                now = time.monotonic()
                with lock:
                    starts.append(now)

        began = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(starts) == 60
        assert max(starts) - began >= 59 * limiter.window / limiter.capacity


class TestValidation:
    @pytest.mark.parametrize(
        "rate",
        [0, -1, math.nan, math.inf, True, "300"],
        ids=["zero", "negative", "nan", "inf", "bool", "str"],
    )
    def test_rejects_bad_rates(self, rate: object) -> None:
        """A rate must be a positive finite number."""
        with pytest.raises(ValueError, match="rate"):
            RateLimiter(rate)  # type: ignore[arg-type]

    @pytest.mark.parametrize("burst", [0, 301, 1.5], ids=["zero", "over-capacity", "float"])
    def test_rejects_bad_bursts(self, burst: object) -> None:
        """A burst must be a whole number of sends within the rate."""
        with pytest.raises(ValueError, match="burst"):
            RateLimiter(300, burst=burst)  # type: ignore[arg-type]

    @pytest.mark.parametrize("tokens", [0, 301], ids=["zero", "over-capacity"])
    def test_rejects_token_counts_out_of_range(self, tokens: int) -> None:
        """A batch larger than the rate could never keep the window, so it is refused."""
        with pytest.raises(ValueError, match="tokens"):
            RateLimiter(300).acquire(tokens)

    def test_rejects_bad_margin(self) -> None:
        """The margin widens the window by at most half."""
        with pytest.raises(ValueError, match="margin"):
            RateLimiter(300, margin=0.9)

    def test_repr_shows_rate(self) -> None:
        """The repr names the rate and burst."""
        assert repr(RateLimiter(300)) == "RateLimiter(rate=300.0, burst=1)"
